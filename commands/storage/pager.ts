/**
 * Pages through a long listing with Previous / Next buttons on the command's own response. Each page is fetched when
 * asked for, with the continuation token the store handed back for it (tokens of pages already seen are kept so
 * Previous works), and the member's access is checked again at every press.
 */
import type { ButtonSpec, Conversation, Message } from '../../src/interaction/conversation.js';
import { text } from '../../src/shared/text.js';

export interface Page {
  message: Message;
  /** The token of the page after this one; undefined on the last page. */
  nextToken: string | undefined;
}

export interface PagerOptions {
  fetch(token: string | undefined, pageNumber: number): Promise<Page>;
  /** Throws (a UserError) when the member may no longer see this listing. */
  recheck(): Promise<void>;
  timeoutMs?: number;
}

/** Buttons stay for five minutes after the last press. */
const PAGE_TIMEOUT_MS = 5 * 60_000;

export async function showPages(conversation: Conversation, options: PagerOptions): Promise<void> {
  // tokens[i] is the continuation token that fetches page i (undefined for the first page).
  const tokens: Array<string | undefined> = [undefined];
  let index = 0;
  let page = await options.fetch(undefined, 1);
  for (;;) {
    if (page.nextToken !== undefined) tokens[index + 1] = page.nextToken;
    const buttons: ButtonSpec[] = [];
    if (index > 0) buttons.push({ id: 'previous', label: '◀ Previous' });
    if (page.nextToken !== undefined) buttons.push({ id: 'next', label: 'Next ▶', style: 'primary' });
    if (buttons.length === 0) {
      await conversation.edit(page.message);
      return;
    }
    const shown = page.message;
    const choice = await conversation.offerButtons(
      { ...shown, buttons },
      {
        where: 'response',
        timeoutMs: options.timeoutMs ?? PAGE_TIMEOUT_MS,
        authorize: (by) => (by.id === conversation.actor.id ? null : text`Only the member who asked for this list can page through it; run the command yourself.`),
        settled: (pressed) => (pressed === null ? { ...shown, buttons: [] } : { ...shown, buttons: [], content: 'Loading the page…' }),
      },
    );
    if (choice === null) return;
    await options.recheck();
    index = choice.buttonId === 'next' ? index + 1 : Math.max(0, index - 1);
    page = await options.fetch(tokens[index], index + 1);
  }
}
