/**
 * `node --import tsx bench/audit-batches.ts [guilds] [sizes]`: what one write-behind batch of audit entries costs
 * (src/audit/write-behind.ts writes what waited for up to 20 ms in one transaction), through the real
 * SqliteAuditStore on a real file, with the entries spread over `guilds` guilds (10 by default, as in the load
 * benchmark) and batches of `sizes` entries (1,10,20,100: one entry, 500/s, 1000/s, a 100 ms window at 1000/s).
 * Prints CPU per batch (and the kernel's share: WAL frames are written one `pwrite` at a time) and per entry.
 * Under `strace -c -f`, the number of pwrite calls per batch tells how many pages each commit wrote.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AuditRow } from '../src/audit/audit-rows.js';
import { SqliteAuditStore } from '../src/audit/sqlite-audit-store.js';
import { sqliteDataAccess } from '../src/db/data-access.js';
import { openDatabase } from '../src/db/index.js';

const guilds = Number(process.argv[2] ?? 10);
const sizes = (process.argv[3] ?? '1,10,20,100').split(',').map(Number);
const ROUNDS = 3000;
const dir = mkdtempSync(join(tmpdir(), 'audit-batches-'));
const database = openDatabase(join(dir, 'chatops.db'));
const { session } = sqliteDataAccess(database);
if (session.dialect !== 'sqlite') throw new Error('a SQLite file opens a SQLite session');
const store = new SqliteAuditStore(session);
const details = JSON.stringify({ resourceType: 'vm', code: 'policy.type_not_allowed', violations: ['vm is not allowed here'] });
const entry = (i: number): AuditRow => ({
  guild_id: String(310000000000000001n + BigInt(i % guilds)),
  user_id: String(410000000000000001n + BigInt(i % 100)),
  action: 'deploy.refused',
  target: 'project-1',
  outcome: 'denied',
  details,
  created_at: Date.now(),
});
const batch = (size: number) => Array.from({ length: size }, (_, i) => entry(i));
for (const size of sizes) {
  for (let round = 0; round < 300; round++) store.writeBatch(batch(size));
  const started = process.cpuUsage();
  for (let round = 0; round < ROUNDS; round++) store.writeBatch(batch(size));
  const used = process.cpuUsage(started);
  const perBatch = (used.user + used.system) / ROUNDS;
  console.log(
    `batch of ${String(size).padStart(3)} over ${guilds} guilds: ${perBatch.toFixed(1)} µs CPU per batch ` +
      `(kernel ${(used.system / ROUNDS).toFixed(1)}), ${(perBatch / size).toFixed(1)} µs per entry`,
  );
}
database.sqlite.close();
rmSync(dir, { recursive: true, force: true });
