/**
 * The one rule for every endpoint a member or operator names (a stored credential's, a project's S3 state, the
 * service's S3_ENDPOINT): an http(s) origin that can never aim the bot's requests at a link-local address or a
 * cloud metadata service, which answer with the bot host's own cloud identity.
 *
 * Checked three times: by shape when the text is parsed (`endpointSchema`: IP literals in any spelling, since the
 * URL parser turns decimal, octal and hex IPv4 into dotted quads), by name resolution before a form is shown
 * (`assertEndpointResolvesSafely`), and at connect time (`guardedLookup`, for the bot's own S3 client) so a name
 * that resolves elsewhere a second later (DNS rebinding) is still refused.
 * Loopback and private addresses stay allowed: a MinIO on the same host or network is a normal S3 store.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { z } from 'zod';
import { UserError } from './errors.js';

export const ENDPOINT_MAX_LENGTH = 300;

/** Names that answer with the host's cloud identity without resolving to a link-local address everywhere. */
const METADATA_HOSTS = new Set(['metadata.google.internal', 'metadata.goog', 'metadata', 'instance-data', 'metadata.azure.internal']);

/** Metadata services outside the link-local ranges (Alibaba Cloud's). */
const METADATA_IPV4 = new Set(['100.100.100.200']);

const REFUSED_MESSAGE = 'must not point at a link-local or cloud metadata address';

export class EndpointRefused extends UserError {
  constructor(field: string, reason: string) {
    super('endpoint.refused', `The ${field} is refused: ${reason}. Use the address of an S3-compatible store, such as https://nyc3.digitaloceanspaces.com.`);
  }
}

function ipv4Forbidden(address: string): boolean {
  return address.startsWith('169.254.') || METADATA_IPV4.has(address);
}

/** The eight 16-bit words of an IPv6 address (with `::` expanded and a trailing dotted quad folded), or null. */
function ipv6Words(address: string): number[] | null {
  let text = address.toLowerCase().replace(/%.*$/, '');
  const quad = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (quad?.[1] !== undefined) {
    const bytes = quad[1].split('.').map(Number);
    text = `${text.slice(0, -quad[1].length)}${(((bytes[0] ?? 0) << 8) | (bytes[1] ?? 0)).toString(16)}:${(((bytes[2] ?? 0) << 8) | (bytes[3] ?? 0)).toString(16)}`;
  }
  const [head = '', tail] = text.split('::');
  const headWords = head === '' ? [] : head.split(':');
  const tailWords = tail === undefined || tail === '' ? [] : tail.split(':');
  const missing = 8 - headWords.length - tailWords.length;
  if (missing < 0 || (tail === undefined && missing !== 0)) return null;
  const words = [...headWords, ...Array<string>(missing).fill('0'), ...tailWords].map((word) => Number.parseInt(word, 16));
  return words.length === 8 && words.every((word) => Number.isInteger(word) && word >= 0 && word <= 0xffff) ? words : null;
}

function embeddedIpv4(high: number, low: number): string {
  return [high >> 8, high & 0xff, low >> 8, low & 0xff].join('.');
}

function ipv6Forbidden(address: string): boolean {
  const w = ipv6Words(address);
  if (w === null) return true;
  const [w0 = 0, w1 = 0, w2 = 0, w3 = 0, w4 = 0, w5 = 0, w6 = 0, w7 = 0] = w;
  // fe80::/10 link-local unicast, ff02::/16 link-local multicast, fd00:ec2::/32 AWS's IPv6 metadata and DNS.
  if ((w0 & 0xffc0) === 0xfe80 || w0 === 0xff02 || (w0 === 0xfd00 && w1 === 0x0ec2)) return true;
  // An IPv4 address carried inside IPv6 reaches that IPv4 address: mapped (::ffff:a.b.c.d), compatible
  // (::a.b.c.d), NAT64 (64:ff9b::a.b.c.d) and 6to4 (2002:aabb:ccdd::).
  const upperZero = w0 === 0 && w1 === 0 && w2 === 0 && w3 === 0 && w4 === 0;
  if (upperZero && (w5 === 0xffff || (w5 === 0 && w6 !== 0))) return ipv4Forbidden(embeddedIpv4(w6, w7));
  if (w0 === 0x64 && w1 === 0xff9b && w2 === 0 && w3 === 0 && w4 === 0 && w5 === 0) return ipv4Forbidden(embeddedIpv4(w6, w7));
  if (w0 === 0x2002) return ipv4Forbidden(embeddedIpv4(w1, w2));
  return false;
}

/** Whether an IP address (v4 or v6, no brackets) is link-local or a cloud metadata address. */
export function isForbiddenAddress(address: string): boolean {
  const bare = address.replace(/^\[|\]$/g, '');
  const version = isIP(bare.replace(/%.*$/, ''));
  if (version === 4) return ipv4Forbidden(bare);
  if (version === 6) return ipv6Forbidden(bare);
  return false;
}

/** Whether a URL host (name or literal) is refused by its shape alone, before any name is resolved. */
export function isForbiddenHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/^\[|\]$/g, '').replace(/\.+$/, '');
  return METADATA_HOSTS.has(host) || isForbiddenAddress(host);
}

/** Scheme, authority, at most a trailing slash: no path, query, fragment or backslash for a parser to reinterpret. */
const ORIGIN_ONLY = /^[a-z][a-z0-9+.-]*:\/\/[^/?#\\]+\/?$/i;

/** An S3-compatible endpoint: an http(s) origin, normalised to `scheme://host[:port]`. */
export const endpointSchema = z
  .string()
  .trim()
  .max(ENDPOINT_MAX_LENGTH, `must be at most ${ENDPOINT_MAX_LENGTH} characters`)
  .transform((value, ctx) => {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be a URL such as https://nyc3.digitaloceanspaces.com' });
      return z.NEVER;
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      ctx.addIssue({ code: 'custom', message: 'must start with https:// (or http://)' });
    } else if (url.username !== '' || url.password !== '' || /^[^/]*\/\/[^/?#\\]*@/.test(value)) {
      ctx.addIssue({ code: 'custom', message: 'must not contain a user name or password' });
    } else if (!ORIGIN_ONLY.test(value)) {
      ctx.addIssue({ code: 'custom', message: 'must be only scheme, host and optional port (no path or query)' });
    } else if (isForbiddenHost(url.hostname)) {
      ctx.addIssue({ code: 'custom', message: REFUSED_MESSAGE });
    } else {
      return url.origin;
    }
    return z.NEVER;
  });

/** How long a name may take to resolve before a form: Discord wants the form within 3 s of the command. */
const RESOLVE_TIMEOUT_MS = 1_500;

export type LookupAll = (hostname: string) => Promise<LookupAddress[]>;

const lookupAll: LookupAll = (hostname) =>
  new Promise((resolve, reject) => {
    dnsLookup(hostname, { all: true, verbatim: true }, (error, addresses) => (error ? reject(error) : resolve(addresses)));
  });

/**
 * Why `host` (a name, not a literal) must not be connected to: it does not resolve in time, or one of its addresses
 * is link-local or a metadata address. Undefined when every address is fine.
 */
export async function unsafeResolution(host: string, resolve: LookupAll = lookupAll): Promise<'unresolvable' | 'forbidden' | undefined> {
  let timer: NodeJS.Timeout | undefined;
  let addresses: LookupAddress[];
  try {
    addresses = await Promise.race([
      resolve(host),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('timeout')), RESOLVE_TIMEOUT_MS);
      }),
    ]);
  } catch {
    return 'unresolvable';
  } finally {
    clearTimeout(timer);
  }
  if (addresses.length === 0 || addresses.some((entry) => isForbiddenAddress(entry.address))) return 'forbidden';
  return undefined;
}

/**
 * Resolves the endpoint's host (every address it has) and refuses it if any is link-local or a metadata address.
 * Run before a member is asked for secrets. `field` names the option in the refusal ("state endpoint").
 * @throws EndpointRefused
 */
export async function assertEndpointResolvesSafely(endpoint: string, field = 'endpoint', resolve: LookupAll = lookupAll): Promise<void> {
  const parsed = endpointSchema.safeParse(endpoint);
  if (!parsed.success) throw new EndpointRefused(field, parsed.error.issues[0]?.message ?? 'it is not an http(s) origin');
  const host = new URL(parsed.data).hostname.replace(/^\[|\]$/g, '');
  if (isIP(host) !== 0) return;
  const problem = await unsafeResolution(host, resolve);
  if (problem === 'unresolvable') throw new EndpointRefused(field, `its host ${host} could not be resolved; check the name`);
  if (problem === 'forbidden') throw new EndpointRefused(field, `its host ${host} resolves to a link-local or cloud metadata address`);
}

/** The error a refused connection fails with; the S3 error mapper reports it as an unreachable endpoint. */
class ForbiddenAddressError extends Error {
  readonly code = 'EHOSTUNREACH';
  constructor(hostname: string) {
    super(`${hostname} resolves to a link-local or cloud metadata address`);
  }
}

/**
 * A `lookup` for sockets (http.Agent / https.Agent options): resolves as usual, and fails the connection when
 * any address is link-local or a metadata address, so a check passed a minute ago cannot be rebound around.
 */
export const guardedLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (error, addresses) => {
    if (error) return callback(error, '', 0);
    if (addresses.length === 0 || addresses.some((entry) => isForbiddenAddress(entry.address))) {
      return callback(new ForbiddenAddressError(hostname), '', 0);
    }
    if (options.all === true) return callback(null, addresses);
    const first = addresses[0] as LookupAddress;
    return callback(null, first.address, first.family);
  });
};
