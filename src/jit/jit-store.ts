/**
 * What JIT changes together in one unit of work (src/db/data-access.ts): the grants and the audit entries that
 * record them. The service asks for a transaction and is handed both, bound to it, on whichever dialect runs.
 */
import { auditWriterFor, type AuditWriter } from '../audit/audit-writer.js';
import { UnitOfWork, type DataAccess } from '../db/data-access.js';
import type { Clock } from '../shared/clock.js';
import { grantRepositoryFor, type GrantRepository, type GrantRepositoryOptions } from './grant-repository.js';

export interface JitRepositories {
  grants: GrantRepository;
  audit: AuditWriter;
}

export type JitStore = UnitOfWork<JitRepositories>;

export function jitStore(data: DataAccess, options: GrantRepositoryOptions & { clock: Clock }): JitStore {
  return new UnitOfWork(data, (session) => ({ grants: grantRepositoryFor(session, options), audit: auditWriterFor(session, options.clock) }));
}
