/**
 * The template catalogue as the composition root builds it: the repository, the store, the operator's folder read
 * and pinned, git behind its transport, the catalogue the deploy pipeline reads and the admin use cases.
 */
import type { AuditLog } from '../audit/audit-log.js';
import type { Config } from '../config/index.js';
import { UnitOfWork, type DataAccess } from '../db/data-access.js';
import type { Logger } from '../logging/logger.js';
import type { Clock } from '../shared/clock.js';
import { GitFetcher } from './git-fetcher.js';
import { httpsGitTransport, type GitTransport } from './git-transport.js';
import { ModuleCatalogue } from './module-catalogue.js';
import { scanOperatorTemplates } from './operator-templates.js';
import { templateRepositoryFor } from './template-repository.js';
import { TemplateService } from './template-service.js';
import { TemplateStore, templateStoreDir } from './template-store.js';

export interface TemplatesDeps {
  config: Config;
  /** The database, on whichever dialect runs. */
  data: DataAccess;
  clock: Clock;
  logger: Logger;
  audit: AuditLog;
  /** The store must not overlap it (DEPLOYMENTS_DIR). */
  deploymentsRoot: string;
  /** Default: https to TEMPLATE_GIT_HOSTS. Only the composition root's caller can pass another (tests: local repositories). */
  gitTransport?: GitTransport;
}

export async function buildTemplates({ config, data, clock, logger, audit, deploymentsRoot, gitTransport }: TemplatesDeps): Promise<{ catalogue: ModuleCatalogue; service: TemplateService }> {
  const templates = new UnitOfWork(data, (session) => templateRepositoryFor(session, clock));
  const repository = templates.outside;
  const store = new TemplateStore(templateStoreDir(config), [deploymentsRoot]);
  const allowHostAccess = config.TEMPLATE_ALLOW_HOST_ACCESS;
  if (allowHostAccess) {
    logger.warn('TEMPLATE_ALLOW_HOST_ACCESS=true: templates with provisioners, the external/local providers or remote module sources are accepted; they can run commands wherever the engine runs');
  }
  await scanOperatorTemplates({ dir: config.TEMPLATES_DIR, allowHostAccess, repository, logger });
  const catalogue = new ModuleCatalogue({ repository, store, operatorDir: config.TEMPLATES_DIR, allowHostAccess, guildTemplates: config.TEMPLATES_FROM_GUILDS });
  const transport = gitTransport ?? httpsGitTransport(config.TEMPLATE_GIT_HOSTS);
  const fetcher = new GitFetcher({ transport, timeoutMs: config.TEMPLATE_GIT_TIMEOUT_SECONDS * 1000, scratchDir: store.scratchDir });
  const service = new TemplateService({
    catalogue,
    templates,
    store,
    fetcher,
    transport,
    audit,
    settings: { fromGuilds: config.TEMPLATES_FROM_GUILDS, allowHostAccess },
  });
  return { catalogue, service };
}

export type { GitTransport } from './git-transport.js';
