import type { IncomingMessage } from 'node:http';

/** A file the bot attached (multipart `files[n]` parts). */
export interface UploadedFile {
  field: string;
  filename: string;
  contentType: string | null;
  size: number;
  text: string;
  /** The exact bytes sent (an image is not text). */
  bytes: Uint8Array;
}

export interface RequestBody {
  /** The JSON body, or the multipart `payload_json` part; undefined when there was no body. */
  json: unknown;
  files: UploadedFile[];
}

export class MalformedBody extends Error {}

/**
 * Reads a REST request body the way Discord accepts it: JSON, or multipart/form-data with a `payload_json` part plus
 * files (what @discordjs/rest sends when a message has attachments).
 */
export async function readRequestBody(request: IncomingMessage): Promise<RequestBody> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  const raw = Buffer.concat(chunks);
  if (raw.length === 0) return { json: undefined, files: [] };
  const contentType = request.headers['content-type'] ?? '';
  if (contentType.startsWith('multipart/form-data')) return readMultipart(raw, contentType);
  try {
    return { json: JSON.parse(raw.toString('utf8')) as unknown, files: [] };
  } catch {
    throw new MalformedBody('The request body is not valid JSON.');
  }
}

async function readMultipart(raw: Buffer, contentType: string): Promise<RequestBody> {
  // The fetch Request of Node's undici implements multipart parsing; no need for a hand-written parser.
  const form = await new Request('http://multipart.invalid/', {
    method: 'POST',
    headers: { 'content-type': contentType },
    body: raw,
  }).formData();
  let json: unknown = undefined;
  const files: UploadedFile[] = [];
  for (const [field, value] of form.entries()) {
    if (typeof value === 'string') {
      if (field === 'payload_json') {
        try {
          json = JSON.parse(value) as unknown;
        } catch {
          throw new MalformedBody('The payload_json part is not valid JSON.');
        }
      }
      continue;
    }
    const bytes = new Uint8Array(await value.arrayBuffer());
    files.push({
      field,
      filename: value.name,
      contentType: value.type || null,
      size: value.size,
      text: new TextDecoder().decode(bytes),
      bytes,
    });
  }
  return { json, files };
}
