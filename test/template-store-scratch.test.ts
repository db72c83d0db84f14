/**
 * The template store's scratch space (where git fetches happen) with several bots on one store (shards): a bot
 * starting up empties what ended processes left, never the folder of another bot that may be fetching right now.
 */
import { execa } from 'execa';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { TemplateStore } from '../src/templates/template-store.js';
import { makeTempDir } from './support/tmp.js';

const cleanups: Array<() => void> = [];
afterEach(() => cleanups.splice(0).reverse().forEach((cleanup) => cleanup()));

describe('the template store’s scratch space', () => {
  it('is one folder per process; a start-up clears ended processes’ folders and keeps running ones’', async () => {
    const tmp = makeTempDir('chatops-store-');
    cleanups.push(tmp.cleanup);
    const root = join(tmp.dir, 'templates');
    const scratchRoot = join(root, '.scratch');
    // Another shard, alive and mid-fetch; a process that has ended; a folder of the old single-scratch layout.
    const sleeper = execa('sleep', ['30']);
    const finished = execa('true');
    const ended = finished.pid as number;
    await finished;
    for (const name of [String(sleeper.pid), String(ended), 'fetch-AbC123']) {
      mkdirSync(join(scratchRoot, name), { recursive: true });
      writeFileSync(join(scratchRoot, name, 'FETCH_HEAD'), 'x');
    }
    const store = new TemplateStore(root);
    expect(store.scratchDir).toBe(join(scratchRoot, String(process.pid)));
    expect(existsSync(store.scratchDir)).toBe(true);
    expect(existsSync(join(scratchRoot, String(sleeper.pid), 'FETCH_HEAD'))).toBe(true);
    expect(existsSync(join(scratchRoot, String(ended)))).toBe(false);
    expect(existsSync(join(scratchRoot, 'fetch-AbC123'))).toBe(false);
    sleeper.kill('SIGKILL');
    await sleeper.catch(() => undefined);
  });
});
