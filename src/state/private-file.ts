/**
 * Writing a file into a workspace without ever writing through a link: a fresh temporary name opened with
 * O_CREAT|O_EXCL (which refuses an existing name, links included) and O_NOFOLLOW where the platform has it, owner
 * read/write only, then renamed over the final name (rename replaces a link planted there, never its target).
 */
import { randomBytes } from 'node:crypto';
import { closeSync, constants, openSync, renameSync, rmSync, writeSync } from 'node:fs';

const CREATE_NEW = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0);

/** Writes `content` to `path` atomically, mode 0600. */
export function writePrivateFile(path: string, content: string | Uint8Array): void {
  const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  const fd = openSync(temporary, CREATE_NEW, 0o600);
  try {
    if (typeof content === 'string') writeSync(fd, content);
    else writeSync(fd, content);
  } catch (error) {
    closeSync(fd);
    rmSync(temporary, { force: true });
    throw error;
  }
  closeSync(fd);
  renameSync(temporary, path);
}
