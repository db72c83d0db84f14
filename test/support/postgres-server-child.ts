/** Starts a test PostgreSQL server, says where it is on stdout, then waits to be killed (postgres-server.test.ts). */
import { findPostgresBinaries, startPostgresServer } from './postgres-server.js';

const found = findPostgresBinaries();
if ('missing' in found) throw new Error(found.missing);
const server = await startPostgresServer(found.binDir);
process.stdout.write(`${JSON.stringify({ pid: server.pid, port: server.port, dir: server.dir })}\n`);
setInterval(() => undefined, 60_000);
