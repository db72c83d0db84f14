import { DirectMessageRefused, type Notice, type Notifier } from '../notify/notifier.js';

export type Delivery =
  | { via: 'dm' }
  /** DMs refused; posted in the guild's notification channel instead. */
  | { via: 'channel'; refused: string }
  /** DMs refused and the guild has no notification channel. */
  | { via: 'none'; refused: string };

/**
 * Sends a notice to a member by DM, falling back to the guild's notification channel when the member cannot be
 * reached. Errors other than a refused DM (network, rate limit, a failing channel post) are thrown: whether they
 * are worth a retry is the caller's call.
 */
export async function deliverToMember(
  notifier: Notifier,
  userId: string,
  notice: { direct: Notice; channel: Notice },
  fallbackChannelId: string | null | undefined,
): Promise<Delivery> {
  try {
    await notifier.sendDirect(userId, notice.direct);
    return { via: 'dm' };
  } catch (error) {
    if (!(error instanceof DirectMessageRefused)) throw error;
    if (!fallbackChannelId) return { via: 'none', refused: error.reason };
    await notifier.sendToChannel(fallbackChannelId, notice.channel);
    return { via: 'channel', refused: error.reason };
  }
}

/** A short, secret-free description of an unexpected error, for logs and the notice_error column. */
export function describeError(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return text.length > 300 ? `${text.slice(0, 297)}...` : text;
}
