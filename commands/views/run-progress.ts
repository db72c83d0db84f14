import type { RunEvent } from '../../src/engine/runner.js';
import type { Conversation, Message } from '../../src/interaction/conversation.js';
import { ThrottledEditor } from '../../src/interaction/throttled-editor.js';
import type { RichText } from '../../src/shared/text.js';
import { ProgressLog } from './deploy.js';

/** Discord allows about five edits per five seconds per message; one every three seconds leaves room. */
const PROGRESS_EDIT_INTERVAL_MS = 3_000;

export interface RunHooks {
  onEvent: (event: RunEvent) => void;
  onQueued: (position: number) => void;
}

/** Runs an engine operation while showing its live progress in the command's response. */
export async function withLiveProgress<T>(
  conversation: Conversation,
  title: RichText,
  run: (hooks: RunHooks) => Promise<T>,
): Promise<T> {
  const log = new ProgressLog(title);
  const editor = new ThrottledEditor((message) => showProgress(conversation, message), PROGRESS_EDIT_INTERVAL_MS);
  editor.update(log.view());
  try {
    return await run({
      onEvent: (event) => {
        if (log.add(event)) editor.update(log.view());
      },
      onQueued: (position) => {
        log.queued(position);
        editor.update(log.view());
      },
    });
  } finally {
    await editor.cancel();
  }
}

async function showProgress(conversation: Conversation, message: Message): Promise<void> {
  // Past the interaction token's lifetime there is no message to edit; the result goes to the channel instead.
  if (conversation.canStillRespond()) await conversation.edit(message);
}

/** The final word of a long run: in the response while its token lives, else as a channel message. */
export async function deliverResult(conversation: Conversation, message: Message): Promise<void> {
  if (conversation.canStillRespond()) await conversation.edit(message);
  else await conversation.postToChannel({ ...message, ephemeral: false });
}
