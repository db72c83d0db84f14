/**
 * Records audit entries and leaves at once: `node --import tsx audit-then-exit.ts <db> <n> <how>`, where <how> is
 * `exit` (process.exit right after recording, no shutdown) or `end` (the event loop simply runs out).
 */
import { AuditLog } from '../../src/audit/audit-log.js';
import { sqliteDataAccess } from '../../src/db/data-access.js';
import { openDatabase } from '../../src/db/index.js';

const [path, count, how] = process.argv.slice(2);
const log = new AuditLog(sqliteDataAccess(openDatabase(path!)).session);
for (let i = 0; i < Number(count); i++) log.record({ guildId: '111111111111111111', userId: 'system', action: `left.${i}`, outcome: 'success' });
if (how === 'exit') process.exit(0);
