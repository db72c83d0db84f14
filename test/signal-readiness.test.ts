import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { untilEngineTakesSigint } from '../src/engine/signal-readiness.js';

/**
 * An "engine" that starts the way the launch chain starts one: a shell's background job, SIGINT ignored, for as long
 * as `IGNORING_MS` (much longer than the real chain's few milliseconds, so that a SIGINT sent too early is surely
 * lost), then `env --default-signal` and a process that exits 42 on SIGINT or 0 after three seconds without one.
 */
const IGNORING_MS = 300;
const ENGINE = `process.on('SIGINT', () => process.exit(42)); setTimeout(() => process.exit(0), 3000);`;
const starting = (ignoringMs: number) => `sleep ${ignoringMs / 1000}; exec env --default-signal ${process.execPath} -e "${ENGINE}"`;
const STARTING = starting(IGNORING_MS);


describe.skipIf(process.platform !== 'linux')('waiting until a SIGINT would reach a starting engine', () => {
  it('waits while the engine still ignores SIGINT, so the cancel that follows is not lost', async () => {
    // The guardian's shape (death-signal.ts): the reported pid is the background job that becomes the engine.
    const guardian = execa('sh', ['-c', `trap "" INT TERM; sh -c '${STARTING}' & echo $! ; wait $!`], { detached: true, reject: false });
    const pid = await firstLine(guardian);
    await untilEngineTakesSigint({ pid, viaKeeper: false }, 10_000);
    process.kill(-guardian.pid!, 'SIGINT');
    const result = await guardian;
    expect(result.exitCode === 42 || result.exitCode === 130, `exit ${String(result.exitCode)}`).toBe(true);
  });

  it('finds the engine as the keeper\'s child when the reported pid is the sandbox keeper', async () => {
    // The keeper's shape (sandbox-launch.ts): the reported pid is the shell whose only child becomes the engine.
    const keeper = execa('sh', ['-c', `trap "" INT TERM; (${STARTING}) & wait $!`], { detached: true, reject: false });
    await untilEngineTakesSigint({ pid: keeper.pid!, viaKeeper: true }, 10_000);
    process.kill(-keeper.pid!, 'SIGINT');
    const result = await keeper;
    expect(result.exitCode === 42 || result.exitCode === 130, `exit ${String(result.exitCode)}`).toBe(true);
  });

  it('shows the loss it prevents: a SIGINT sent without waiting is dropped and the engine runs on', async () => {
    // The keeper says when its trap is set and the child started (still ignoring SIGINT, for 2 s: wide enough that a
    // loaded machine's delay in reading the line cannot let the signal arrive after the engine began to listen).
    const keeper = execa('sh', ['-c', `trap "" INT TERM; (${starting(2000)}) & echo 0; wait $!`], { detached: true, reject: false });
    await firstLine(keeper);
    process.kill(-keeper.pid!, 'SIGINT');
    expect((await keeper).exitCode).toBe(0);
  });

  it('returns at once when the engine has already ended', async () => {
    const done = execa('sh', ['-c', 'true']);
    await done;
    await expect(untilEngineTakesSigint({ pid: done.pid!, viaKeeper: true }, 60_000)).resolves.toBeUndefined();
    await expect(untilEngineTakesSigint({ pid: done.pid!, viaKeeper: false }, 60_000)).resolves.toBeUndefined();
  });
});

function firstLine(subprocess: ReturnType<typeof execa>): Promise<number> {
  return new Promise((resolve, reject) => {
    let text = '';
    subprocess.stdout?.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      if (text.includes('\n')) resolve(Number(text.trim().split('\n')[0]));
    });
    subprocess.stdout?.on('close', () => reject(new Error('no pid reported')));
  });
}
