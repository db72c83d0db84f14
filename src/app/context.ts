/**
 * Everything a command handler may use, built once by the composition root (src/app/bootstrap.ts).
 * Tests build the same context with fakes only at the edges (clock, notifier).
 */
import type { Advisor } from '../advisor/advisor.js';
import type { Config } from '../config/index.js';
import type { DataAccess } from '../db/data-access.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { CredentialStore } from '../credentials/credential-store.js';
import type { ServiceDefaults } from '../credentials/service-defaults.js';
import type { BudgetReservations } from '../deploy/budget-reservations.js';
import type { DeployApprovalStore } from '../deploy/deploy-approval.js';
import type { DriftService } from '../drift/drift-service.js';
import type { IacRunner } from '../engine/runner.js';
import type { JitRequestService } from '../jit/access-requests.js';
import type { ExtensionService } from '../jit/extensions.js';
import type { JitService } from '../jit/jit-service.js';
import type { Logger } from '../logging/logger.js';
import type { Notifier } from '../notify/notifier.js';
import type { PolicyService } from '../policy/policy-service.js';
import type { PriceCatalogue } from '../pricing/catalogue.js';
import type { ProjectOverviews } from '../projects/project-overview.js';
import type { ProjectRepository } from '../projects/project-repository.js';
import type { ResourceRepository } from '../projects/resource-repository.js';
import type { Clock } from '../shared/clock.js';
import type { StateLayout } from '../state/layout.js';
import type { TemplateCatalogue } from '../templates/template.js';
import type { TemplateService } from '../templates/template-service.js';
import type { TierService } from '../tiers/tier-service.js';
import type { DeploymentTtls } from '../ttl/ttl-service.js';
import type { EphemeralVault } from '../vault/ephemeral-vault.js';

export interface AppContext {
  config: Config;
  clock: Clock;
  logger: Logger;
  /** The data-access seam (issue 16): repositories' sessions and units of work, and the dialect's own chores. */
  data: DataAccess;
  vault: EphemeralVault;
  pricing: PriceCatalogue;
  /** Advice shown with a deployment's plan; a no-op unless ADVISOR_ENABLED. */
  advisor: Advisor;
  policies: PolicyService;
  /** Budget promised to deployments about to apply; see BudgetReservations. */
  reservations: BudgetReservations;
  projects: ProjectRepository;
  /** A guild's projects with their resources and totals, one page at a time (/cloud-projects). */
  projectOverviews: ProjectOverviews;
  resources: ResourceRepository;
  layout: StateLayout;
  runner: IacRunner;
  audit: AuditLog;
  jit: JitService;
  /** JIT access requests (and extension requests): ask, review at the moment of the press, approve or deny. */
  jitRequests: JitRequestService;
  /** More time on a grant from its reminder's Extend button: self-extension within the policy, else a review. */
  jitExtensions: ExtensionService;
  credentials: CredentialStore;
  /** Deployments waiting for an admin's approval, and the outbox telling their requesters how each ended. */
  deployApprovals: DeployApprovalStore;
  /** The bot's own cloud credentials, usable only by allow-listed guilds (SERVICE_CREDENTIALS_GUILDS). */
  serviceCredentials: { defaults: ServiceDefaults; allowedGuilds: ReadonlySet<string> };
  notifier: Notifier;
  /** The plan the operator put each guild on (npm run tiers) and the caps it sets. */
  tiers: TierService;
  /** What a guild can deploy (built-ins, enabled operator templates, its git templates) and their pinned files. */
  templates: TemplateCatalogue;
  /** The admin use cases behind /cloud-template: add from git, update, remove, enable, disable, list, show. */
  templateAdmin: TemplateService;
  /** Drift checks: schedules per project or deployment, the check itself, and the answers to a report's buttons. */
  drift: DriftService;
  /** Deployments with a time to live: the TTL asked at deploy, its clock, and Extend and Destroy now (src/ttl). */
  deploymentTtls: DeploymentTtls;
}
