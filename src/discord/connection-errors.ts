/**
 * Why the bot could not connect to Discord, for the operator reading the start-up error: what is wrong and what to
 * check, instead of Node's `getaddrinfo ENOTFOUND discord.com`.
 */

interface NetworkErrorLike {
  code?: unknown;
  hostname?: unknown;
  cause?: unknown;
  message?: unknown;
}

const DNS_FAILURES = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_FAIL', 'EAI_NODATA']);
const UNREACHABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN', 'UND_ERR_CONNECT_TIMEOUT']);

/** The first error code in the chain (fetch wraps the socket's error in `cause`). */
function networkCode(error: unknown): { code: string; hostname?: string } | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current && typeof current === 'object'; depth += 1) {
    const candidate = current as NetworkErrorLike;
    if (typeof candidate.code === 'string') {
      return { code: candidate.code, ...(typeof candidate.hostname === 'string' ? { hostname: candidate.hostname } : {}) };
    }
    current = candidate.cause;
  }
  return undefined;
}

/** A start-up message for a failed login, or undefined when the error is not about connecting. */
export function describeConnectionError(error: unknown, apiUrl: string | undefined): string | undefined {
  const where = apiUrl ? `the Discord API at ${apiUrl} (DISCORD_API_URL)` : 'Discord (discord.com)';
  const checkUrl = apiUrl ? ' Check that DISCORD_API_URL is right and that server is running.' : '';
  const found = networkCode(error);
  if (found && DNS_FAILURES.has(found.code)) {
    return (
      `Cannot reach ${where}: the name ${found.hostname ?? 'of the server'} could not be looked up (${found.code}). ` +
      `This machine has no network or no working DNS.${checkUrl} Check the network connection, DNS and any proxy, then start again.`
    );
  }
  if (found && UNREACHABLE.has(found.code)) {
    return (
      `Cannot reach ${where}: the connection failed (${found.code}).${checkUrl} ` +
      'Check the network connection, a firewall or proxy in the way, then start again.'
    );
  }
  if (found?.code === 'TokenInvalid' || (error as NetworkErrorLike | undefined)?.message === 'An invalid token was provided.') {
    return 'Discord refused DISCORD_TOKEN: it is not a valid bot token. Copy the token again from the Developer Portal (Bot → Reset Token) into .env.';
  }
  return undefined;
}
