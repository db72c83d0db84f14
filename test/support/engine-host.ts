/**
 * A stand-in for the bot in crash tests: runs one engine command through the product's runEngineCommand and echoes
 * the engine's stdout lines (after a first line `spawned <pid>`), so a test can kill -9 it mid-command.
 * Usage: node --import tsx test/support/engine-host.ts <cwd> <binary> <args...>
 */
import { RunStopper, runEngineCommand } from '../../src/engine/process.js';

const [cwd, binary, ...args] = process.argv.slice(2);
if (!cwd || !binary) throw new Error('usage: engine-host <cwd> <binary> <args...>');
await runEngineCommand({
  binary,
  args,
  cwd,
  env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: cwd, TF_IN_AUTOMATION: '1' },
  // The engine's own pid (under the guardian it is not the spawned process's).
  stopper: new RunStopper(10_000, undefined, (engine) => process.stdout.write(`spawned ${engine.pid}\n`)),
  onStdoutLine: (line) => process.stdout.write(`${line}\n`),
});
