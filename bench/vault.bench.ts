/**
 * The ephemeral vault at 100 to 100,000 live sessions: open + read per second (each cycle opens a session, reads it
 * back and closes it, so the count stays put), with bare AES-256-GCM in the same run as the floor; how long `list`
 * takes for one guild; and what a session costs in memory. Flat figures across the sizes are the point: no step
 * may walk every session.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { EphemeralVault } from '../src/vault/ephemeral-vault.js';
import type { Clock } from '../src/shared/clock.js';
import { describeMachine, fmtCount, machineInfo, type Benchmark, type BenchmarkResult } from './harness.js';

/** Sizes from the issue; VAULT_BENCH_SIZES=100,1000 runs fewer (a slow vault takes minutes to fill 100,000). */
const SIZES = (process.env.VAULT_BENCH_SIZES ?? '100,1000,20000,100000').split(',').map(Number);
/** Sessions per guild when filling: below the default cap of 50, so every guild has room for the measured opens. */
const PER_GUILD = 40;
const MAX_PER_GUILD = 50;
const CYCLES = 30_000;
const LIST_CALLS = 20_000;
/** What /cloud-init puts in a session: a project id, about this long. */
const SECRETS = { project_id: 'my-gcp-project-123456' };

/** Forces a full collection, so heap figures are what is live, not what is garbage yet to be collected. */
function collector(): () => void {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  return () => {
    gc();
    gc();
  };
}

function memoryNow(): number {
  const usage = process.memoryUsage();
  return usage.heapUsed + usage.arrayBuffers;
}

function guildId(i: number): string {
  return String(100000000000000000n + BigInt(i));
}

function ownerId(i: number): string {
  return String(700000000000000000n + BigInt(i));
}

/** Bare AES-256-GCM, as a vault cycle needs it: a fresh key and IV, seal the JSON, open it again. */
function rawAesGcmPerSecond(cycles: number): number {
  const plaintext = JSON.stringify(SECRETS);
  const aad = Buffer.from(`cloud-chatops/vault/v1\u0000${guildId(0)}\u0000${'A'.repeat(24)}`);
  const started = performance.now();
  for (let i = 0; i < cycles; i++) {
    const key = randomBytes(32);
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', key, iv, { authTagLength: 16 });
    cipher.setAAD(aad);
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const tag = cipher.getAuthTag();
    const decipher = createDecipheriv('aes-256-gcm', key, iv, { authTagLength: 16 });
    decipher.setAAD(aad);
    decipher.setAuthTag(tag);
    const opened = Buffer.concat([decipher.update(ciphertext), decipher.final()]);
    if (opened.length !== plaintext.length) throw new Error('AES-GCM round trip failed');
  }
  return cycles / ((performance.now() - started) / 1000);
}

interface SizeResult {
  sessions: number;
  fillMs: number;
  cyclesPerSecond: number;
  rawPerSecond: number;
  listMicros: number;
  bytesPerSession: number;
}

function measureSize(sessions: number, gc: () => void): SizeResult {
  const clock: Clock = { now: () => Date.UTC(2026, 0, 1, 12) };
  gc();
  const before = memoryNow();
  const vault = new EphemeralVault({ ttlMs: 30 * 60_000, maxSessionsPerGuild: MAX_PER_GUILD, clock });
  const guilds = Math.ceil(sessions / PER_GUILD);
  const fillStarted = performance.now();
  for (let i = 0; i < sessions; i++) vault.open(guildId(i % guilds), ownerId(i), SECRETS);
  const fillMs = performance.now() - fillStarted;
  gc();
  const bytesPerSession = (memoryNow() - before) / sessions;

  const guildIds = Array.from({ length: guilds }, (_, g) => guildId(g));
  // The floor and the vault alternate, so both see the same machine load.
  const rawFirst = rawAesGcmPerSecond(CYCLES / 2);
  const started = performance.now();
  for (let i = 0; i < CYCLES; i++) {
    const guild = guildIds[i % guilds]!;
    const { sessionId } = vault.open(guild, ownerId(i), SECRETS);
    if (vault.read(guild, sessionId).project_id !== SECRETS.project_id) throw new Error('vault returned something else');
    vault.close(guild, sessionId);
  }
  const cyclesPerSecond = CYCLES / ((performance.now() - started) / 1000);
  const rawPerSecond = (rawFirst + rawAesGcmPerSecond(CYCLES / 2)) / 2;

  const listStarted = performance.now();
  for (let i = 0; i < LIST_CALLS; i++) {
    if (vault.list(guildIds[i % guilds]!).length === 0) throw new Error('list found nothing');
  }
  const listMicros = ((performance.now() - listStarted) * 1000) / LIST_CALLS;
  if (vault.size !== sessions) throw new Error(`vault holds ${vault.size} sessions, expected ${sessions}`);
  vault.purgeAll();
  return { sessions, fillMs, cyclesPerSecond, rawPerSecond, listMicros, bytesPerSession };
}

async function run(): Promise<BenchmarkResult> {
  const machine = describeMachine(machineInfo());
  const gc = collector();
  rawAesGcmPerSecond(5_000); // warm the cipher paths before anything is timed
  const results = SIZES.map((sessions) => measureSize(sessions, gc));
  const header = ['Live sessions', 'Fill (all opens)', 'Open + read + close /s', 'Bare AES-256-GCM /s', 'Vault ÷ bare', '`list` one guild', 'Bytes per session'];
  const rows = results.map((r) => [
    fmtCount(r.sessions),
    `${fmtCount(r.fillMs)} ms`,
    fmtCount(r.cyclesPerSecond),
    fmtCount(r.rawPerSecond),
    `${Math.round((r.cyclesPerSecond / r.rawPerSecond) * 100)}%`,
    `${r.listMicros.toFixed(1)} µs`,
    // A hundred sessions are below the noise of a heap measurement (a few KiB either way).
    r.sessions >= 1_000 ? fmtCount(r.bytesPerSession) : 'n/a',
  ]);
  const lines = [...rows.map((row) => `  ${row.map((cell, i) => `${header[i]}: ${cell}`).join(', ')}`), `  Machine: ${machine}`];
  const markdown = [
    `Machine: ${machine}.`,
    '',
    `| ${header.join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...rows.map((row) => `| ${row.join(' | ')} |`),
    '',
    `Sessions are spread ${PER_GUILD} to a guild (cap ${MAX_PER_GUILD}), each holding a project id as \`/cloud-init\` stores it.`,
    `A cycle opens a session in one of those guilds, reads it back and closes it (${fmtCount(CYCLES)} cycles), so the`,
    'number of live sessions stays what the row says. "Bare AES-256-GCM" is the same work without the vault: a fresh',
    'key and IV, seal the JSON, open it, in the same run (half before the vault\'s cycles, half after). `list` lists',
    `one guild's ${PER_GUILD} sessions. Bytes per session are the V8 heap plus array-buffer memory after a full`,
    'garbage collection, divided by the sessions: keys, ciphertext and bookkeeping together.',
  ].join('\n');
  return { lines, markdown };
}

export const vaultBenchmark: Benchmark = {
  id: 'vault',
  title: 'Ephemeral vault: open, read and list at 100 to 100,000 sessions',
  run,
};
