/**
 * The stand-in engine is a node script that imports `../engine.mjs`, so inside the engine sandbox it needs its whole
 * folder, read-only. Tests give the bot that folder as an operator would any engine's support files
 * (ENGINE_SANDBOX_READ_ONLY_PATHS); `node` itself is found on PATH, whose folders the sandbox shows read-only.
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const FAKE_ENGINE_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../fake-engine');

/** Settings every test bot that may run the stand-in engine gets. */
export const STAND_IN_SANDBOX_ENV: Record<string, string> = { ENGINE_SANDBOX_READ_ONLY_PATHS: FAKE_ENGINE_DIR };
