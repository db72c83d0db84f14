/**
 * What JIT changes together in one unit of work (src/db/data-access.ts): the grants, the requests that lead to them
 * and the audit entries that record both. The service asks for a transaction and is handed them, bound to it, on
 * whichever dialect runs (so an approval grants, closes its request and audits both in one transaction).
 */
import { auditWriterFor, type AuditWriter } from '../audit/audit-writer.js';
import { UnitOfWork, type DataAccess } from '../db/data-access.js';
import type { Clock } from '../shared/clock.js';
import { grantRepositoryFor, type GrantRepository, type GrantRepositoryOptions } from './grant-repository.js';
import { requestRepositoryFor, type RequestRepository } from './request-repository.js';

export interface JitRepositories {
  grants: GrantRepository;
  requests: RequestRepository;
  audit: AuditWriter;
}

export type JitStore = UnitOfWork<JitRepositories>;

export function jitStore(data: DataAccess, options: GrantRepositoryOptions & { clock: Clock }): JitStore {
  return new UnitOfWork(data, (session) => ({
    grants: grantRepositoryFor(session, options),
    requests: requestRepositoryFor(session, options),
    audit: auditWriterFor(session, options.clock),
  }));
}
