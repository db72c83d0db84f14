/**
 * The advisor model's base URL (ADVISOR_URL), e.g. `https://api.openai.com/v1` or `http://127.0.0.1:11434/v1`.
 * The endpoint rules of src/shared/endpoint.ts hold (http(s) only, no user name or password in it, never a
 * link-local or cloud metadata address, and the same guard again at connect time in model-review.ts), with two
 * differences for an OpenAI-compatible API: a path is allowed (`/v1`), since that is where such APIs live; and plain
 * http:// only for a loopback host, because the request carries ADVISOR_API_KEY. Loopback is allowed, as a model
 * served on the bot's own host (Ollama, llama.cpp, vLLM) is the common private set-up.
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import { ENDPOINT_MAX_LENGTH, isForbiddenHost } from '../shared/endpoint.js';

function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase().replace(/^\[|\]$/g, '');
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}

/** Normalised to `scheme://host[:port][/path]` without a trailing slash, so `/chat/completions` can be appended. */
export const advisorUrlSchema = z
  .string()
  .trim()
  .max(ENDPOINT_MAX_LENGTH, `a URL of at most ${ENDPOINT_MAX_LENGTH} characters`)
  .transform((value, ctx) => {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      ctx.addIssue({ code: 'custom', message: 'an OpenAI-compatible API base URL such as https://api.openai.com/v1' });
      return z.NEVER;
    }
    const refuse = (message: string) => {
      ctx.addIssue({ code: 'custom', message });
      return z.NEVER;
    };
    if (url.protocol !== 'https:' && url.protocol !== 'http:') return refuse('a URL starting with https:// (http:// only for a loopback host)');
    if (url.username !== '' || url.password !== '' || /^[^/]*\/\/[^/?#\\]*@/.test(value)) return refuse('a URL without a user name or password (put the key in ADVISOR_API_KEY)');
    if (url.search !== '' || url.hash !== '' || value.includes('?') || value.includes('#') || value.includes('\\')) return refuse('a URL without a query or fragment');
    if (isForbiddenHost(url.hostname)) return refuse('a URL that does not point at a link-local or cloud metadata address');
    if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) return refuse('an https:// URL: http:// is accepted only for a loopback host, since the request carries the API key');
    return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
  });
