/**
 * One line of the S3 server access log format (AWS's, which S3-compatible stores that log reuse):
 *
 *   owner bucket [06/Feb/2019:00:00:38 +0000] 192.0.2.3 requester reqid REST.GET.OBJECT key "GET /b/key HTTP/1.1"
 *   200 - 113 113 7 6 "referer" "user agent" version host-id SigV4 cipher AuthHeader host TLSv1.2 arn Yes
 *
 * Fields are separated by spaces; a field in "quotes" or [brackets] may contain spaces (a quote inside quotes is
 * escaped with a backslash); '-' means "none". Later fields were added over the years and may be missing, and new
 * ones may follow: only the first twelve are required.
 */

export interface AccessLogEntry {
  bucketOwner: string | null;
  bucket: string | null;
  /** Epoch milliseconds. */
  at: number;
  remoteIp: string | null;
  requester: string | null;
  requestId: string | null;
  /** REST.GET.OBJECT, REST.PUT.OBJECT, WEBSITE.GET.OBJECT, BATCH.DELETE.OBJECT... */
  operation: string | null;
  /** The object key, URL-decoded; null when the request names none. */
  key: string | null;
  /** The HTTP method, from the request line (or the operation when the line is absent). */
  method: string | null;
  requestUri: string | null;
  httpStatus: number | null;
  errorCode: string | null;
  bytesSent: number | null;
  objectSize: number | null;
  totalTimeMs: number | null;
  userAgent: string | null;
}

const REQUIRED_FIELDS = 12;
const MONTHS: Record<string, number> = { Jan: 0, Feb: 1, Mar: 2, Apr: 3, May: 4, Jun: 5, Jul: 6, Aug: 7, Sep: 8, Oct: 9, Nov: 10, Dec: 11 };

/** Splits a line into fields; null for a field that is '-'. Returns undefined when a quote or bracket is unclosed. */
export function splitLogFields(line: string): Array<string | null> | undefined {
  const fields: Array<string | null> = [];
  let i = 0;
  while (i < line.length) {
    const c = line[i];
    if (c === ' ' || c === '\t') {
      i += 1;
      continue;
    }
    if (c === '"') {
      let value = '';
      let j = i + 1;
      for (; j < line.length && line[j] !== '"'; j += 1) {
        if (line[j] === '\\' && j + 1 < line.length) j += 1;
        value += line[j];
      }
      if (j >= line.length) return undefined;
      fields.push(value === '-' ? null : value);
      i = j + 1;
    } else if (c === '[') {
      const end = line.indexOf(']', i);
      if (end < 0) return undefined;
      fields.push(line.slice(i + 1, end));
      i = end + 1;
    } else {
      let end = i;
      while (end < line.length && line[end] !== ' ' && line[end] !== '\t') end += 1;
      const value = line.slice(i, end);
      fields.push(value === '-' ? null : value);
      i = end;
    }
  }
  return fields;
}

/** `06/Feb/2019:00:00:38 +0000` as epoch milliseconds, or undefined. */
export function parseLogTime(value: string): number | undefined {
  const m = /^(\d{2})\/([A-Z][a-z]{2})\/(\d{4}):(\d{2}):(\d{2}):(\d{2}) ([+-])(\d{2})(\d{2})$/.exec(value);
  if (!m) return undefined;
  const month = MONTHS[m[2] as string];
  if (month === undefined) return undefined;
  const utc = Date.UTC(Number(m[3]), month, Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6]));
  const offsetMs = (Number(m[8]) * 60 + Number(m[9])) * 60_000 * (m[7] === '-' ? -1 : 1);
  return utc - offsetMs;
}

function integer(value: string | null | undefined): number | null {
  return value !== null && value !== undefined && /^\d+$/.test(value) ? Number(value) : null;
}

function decodeKey(value: string | null | undefined): string | null {
  if (value === null || value === undefined) return null;
  try {
    return decodeURIComponent(value);
  } catch {
    // A key with a stray '%' is shown as logged rather than dropped.
    return value;
  }
}

/** Parses one log line; undefined for a blank, truncated or foreign line. */
export function parseAccessLogLine(line: string): AccessLogEntry | undefined {
  if (line.trim() === '') return undefined;
  const f = splitLogFields(line);
  if (f === undefined || f.length < REQUIRED_FIELDS) return undefined;
  const at = f[2] == null ? undefined : parseLogTime(f[2]);
  if (at === undefined) return undefined;
  const requestUri = f[8] ?? null;
  const operation = f[6] ?? null;
  const fromLine = requestUri === null ? undefined : /^([A-Z]+) /.exec(requestUri)?.[1];
  const fromOperation = operation === null ? undefined : /^[A-Z]+\.([A-Z]+)\./.exec(operation)?.[1];
  return {
    bucketOwner: f[0] ?? null,
    bucket: f[1] ?? null,
    at,
    remoteIp: f[3] ?? null,
    requester: f[4] ?? null,
    requestId: f[5] ?? null,
    operation,
    key: decodeKey(f[7]),
    method: fromLine ?? fromOperation ?? null,
    requestUri,
    httpStatus: integer(f[9]),
    errorCode: f[10] ?? null,
    bytesSent: integer(f[11]),
    objectSize: integer(f[12]),
    totalTimeMs: integer(f[13]),
    userAgent: f[16] ?? null,
  };
}
