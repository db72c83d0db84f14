/**
 * A bot process that dies mid-way through an expiry batch: `node --import tsx crash-mid-expiry.ts <db> <batch> <n>`
 * revokes in batches of <batch> and is SIGKILLed from inside SQLite while writing audit entry number <n>, with that
 * batch's transaction open. No cleanup of any kind runs: what the file holds afterwards is what a crash leaves.
 */
import { openDatabase } from '../../src/db/index.js';
import { sqliteDataAccess } from '../../src/db/data-access.js';
import { grantRepositoryFor } from '../../src/jit/grant-repository.js';
import { JitExpiryJob } from '../../src/janitor/jit-expiry-job.js';
import type { Notifier } from '../../src/notify/notifier.js';

const [path, batch, dieAt] = process.argv.slice(2);
const handle = openDatabase(path!);
handle.sqlite.function('die_now', () => process.kill(process.pid, 'SIGKILL'));
handle.sqlite.exec(`CREATE TEMP TRIGGER crash AFTER INSERT ON main.audit_log WHEN NEW.id >= ${Number(dieAt)} BEGIN SELECT die_now(); END`);
const unused = {} as Notifier; // never reached: the process dies while revoking
const job = new JitExpiryJob({
  grants: grantRepositoryFor(sqliteDataAccess(handle).session),
  clock: { now: () => Number(process.env.NOW) },
  notifier: unused,
  policies: { get: () => ({ maxJitMinutes: 480 }) },
  revokeBatchSize: Number(batch),
});
await job.revokeDue();
process.stdout.write('finished without crashing\n');
