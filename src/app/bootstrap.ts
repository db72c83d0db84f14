/**
 * The composition root: builds the one AppContext every handler receives, in the order the bot needs it
 * (config → database and migrations → vault → engine runner → front end → janitor), and tears it down in reverse.
 */
import { join, resolve } from 'node:path';
import { createAdvisor } from '../advisor/advisor.js';
import type { Config } from '../config/index.js';
import { openBotDatabase, type BotDatabase } from '../db/bot-database.js';
import { WalCheckpointer } from '../db/wal-checkpointer.js';
import { AuditLog } from '../audit/audit-log.js';
import { CredentialStore } from '../credentials/credential-store.js';
import { MasterKeyring } from '../credentials/master-keys.js';
import { BudgetReservations } from '../deploy/budget-reservations.js';
import { LeaseHeartbeat, processOwnerId } from '../shared/leases.js';
import { ApprovalNoticeOutbox } from '../deploy/approval-outbox.js';
import { deployApprovalUnits } from '../deploy/approval-repository.js';
import type { DeployApprovalStore } from '../deploy/deploy-approval.js';
import { DeployService } from '../deploy/deploy-service.js';
import { parseServiceGuildAllowList, serviceDefaultsFromEnv } from '../credentials/service-defaults.js';
import { IacRunner, type IacRunnerOptions } from '../engine/runner.js';
import { tellInterruptedMembers } from '../engine/crash-notices.js';
import { recoverUnfinishedRuns } from '../engine/orphans.js';
import { DEFAULT_KILL_GRACE_MS } from '../engine/process.js';
import { engineExecutorFor } from '../engine/sandbox-check.js';
import { templateStoreDir } from '../templates/template-store.js';
import { RunScheduler } from '../engine/scheduler.js';
import { WorkspaceLeases } from '../engine/workspace-leases.js';
import { runStoreFor } from '../engine/run-store.js';
import { ResourceStatusTransitions } from '../deploy/resource-transitions.js';
import { ApprovalCardEdits } from '../deploy/approval-card-edits.js';
import { createJanitor, DeployApprovalExpiryJob, DriftCheckJob, ttlJobs, type Janitor } from '../janitor/index.js';
import { credentialsForRun } from '../deploy/run-credentials.js';
import { SensitiveInputs } from '../deploy/sensitive-inputs.js';
import { driftRepositoryFor } from '../drift/drift-repository.js';
import { DriftService } from '../drift/drift-service.js';
import { TtlDestroyer } from '../ttl/ttl-destroyer.js';
import { ttlReminderRepositoryFor } from '../ttl/ttl-reminder-repository.js';
import { ttlRepositoryFor } from '../ttl/ttl-repository.js';
import { DeploymentTtls } from '../ttl/ttl-service.js';
import { JitRequestService } from '../jit/access-requests.js';
import { ExtensionService } from '../jit/extensions.js';
import { jitStore } from '../jit/jit-store.js';
import { JitService } from '../jit/jit-service.js';
import { reminderRepositoryFor } from '../jit/reminder-repository.js';
import { RequestNoticeOutbox } from '../jit/request-outbox.js';
import type { Logger } from '../logging/logger.js';
import type { Notifier } from '../notify/notifier.js';
import { PolicyService } from '../policy/policy-service.js';
import { PriceCatalogue } from '../pricing/catalogue.js';
import { projectOverviewsFor } from '../projects/project-overview.js';
import { projectRepositoryFor } from '../projects/project-repository.js';
import { resourceRepositoryFor } from '../projects/resource-repository.js';
import { resourceTotalsFor } from '../projects/resource-totals.js';
import type { Clock } from '../shared/clock.js';
import { servesGuild, type ShardScope } from '../sharding/shard-scope.js';
import { StateLayout } from '../state/layout.js';
import { buildTemplates, type GitTransport } from '../templates/index.js';
import { TierService } from '../tiers/tier-service.js';
import { EphemeralVault } from '../vault/ephemeral-vault.js';
import type { AppContext } from './context.js';

export interface CoreOptions {
  config: Config;
  clock: Clock;
  logger: Logger;
  notifier: Notifier;
  /**
   * What the runner takes from the host rather than from config: the PATH engines are found in and run with (default
   * the bot's own), the grace between SIGINT, SIGTERM and SIGKILL (default 10 s), and a run timeout finer than
   * RUN_TIMEOUT_MINUTES. Each one left out keeps its default.
   */
  engineHost?: Partial<Pick<IacRunnerOptions, 'pathEnv' | 'killGraceMs' | 'runTimeoutMs'>>;
  /**
   * How git templates are fetched: https to TEMPLATE_GIT_HOSTS by default. No setting can change it; a caller of
   * the composition root can (the tests, for local bare repositories).
   */
  templateGit?: GitTransport;
  /**
   * The shard this process runs when started by the ShardingManager (src/discord/shard-manager.ts): it then locks only its shard,
   * and settles, expires and notifies only its own guilds' rows. Unset: one process serves every guild.
   */
  shard?: ShardScope;
  /**
   * PostgreSQL: the connection holding this process's lock was lost (the server restarted, or an operator ended it),
   * so another process could now start on the same shard. Default: logged; the front end stops the bot (src/main.ts).
   */
  onDatabaseLockLost?: (error: Error) => void;
}

export interface Core {
  app: AppContext;
  /** The database the bot runs on (SQLite or PostgreSQL), with its process lock. */
  database: BotDatabase;
  janitor: Janitor;
  /** The janitor's drift checks, which run in the background: `idle()` waits for those started. */
  driftChecks: DriftCheckJob;
  /** Renews what this process holds in the database (workspace leases, budget holds) every HEARTBEAT_EVERY_MS. */
  heartbeat: LeaseHeartbeat;
  /**
   * Tells the members whose runs the last process left unfinished what happened (in the run's channel, else by
   * DM). Call once the front end can deliver messages.
   */
  announceInterruptedRuns(): Promise<void>;
  /** Cancels runs gracefully (SIGINT first), stops the janitor, wipes the vault and closes the database. */
  shutdown(): Promise<void>;
}

export async function buildCore(options: CoreOptions): Promise<Core> {
  const { config, clock, logger, shard } = options;
  // First of all: the process lock, then the migrations. A second bot on the same database, or a second process of one
  // shard, stops here (DatabaseInUse) having changed nothing.
  const database = await openBotDatabase(config, {
    now: clock.now(),
    shard,
    onLockLost: (error) => (options.onDatabaseLockLost ?? ((lost) => logger.error({ err: lost }, 'lost the database lock')))(error),
  });
  logger.info({ database: database.where, dialect: database.data.dialect }, 'database ready, migrations applied');
  try {
    return await buildOnDatabase(options, database);
  } catch (error) {
    await database.close();
    throw error;
  }
}

async function buildOnDatabase({ config, clock, logger, notifier, engineHost = {}, templateGit, shard }: CoreOptions, database: BotDatabase): Promise<Core> {
  const ownGuild = (guildId: string): boolean => servesGuild(shard, guildId);
  const deploymentsRoot = resolve(config.DEPLOYMENTS_DIR);
  // Before anything runs: without a working sandbox (unless turned off by name) the bot does not start.
  const executor = engineExecutorFor({
    sandbox: config.ENGINE_SANDBOX,
    bwrapPath: config.BWRAP_PATH,
    readOnlyPaths: config.ENGINE_SANDBOX_READ_ONLY_PATHS,
    deploymentsRoot,
    databasePath: database.sqlite ? config.DATABASE_PATH : undefined,
    // Every guild's fetched modules: a run gets its own template copied into its workspace, never the store.
    privateFolders: [templateStoreDir(config)],
    pathEnv: engineHost.pathEnv ?? process.env.PATH ?? '',
    logger,
  });
  const { data } = database;

  const pricing = PriceCatalogue.load(config.PRICING_OVERRIDES_FILE);
  const audit = new AuditLog(data.session, clock, {
    onWriteError: (error, entries) => logger.error({ err: error, entries }, 'audit entries could not be written'),
  });
  const tiers = new TierService(data, clock);
  // The tier's ceilings lower the policy in force, so a guild put on a smaller plan is held to it at once.
  const policies = new PolicyService(data, pricing, clock, async (guildId) => (await tiers.get(guildId)).limits);
  const vault = new EphemeralVault({
    ttlMs: config.VAULT_TTL_MINUTES * 60_000,
    maxSessionsPerGuild: config.VAULT_MAX_SESSIONS_PER_GUILD,
    clock,
  });
  const layout = new StateLayout(deploymentsRoot);
  const projects = projectRepositoryFor(data.session, clock);
  const resources = resourceRepositoryFor(data.session, clock);
  const masterKeys = MasterKeyring.fromConfig(config);
  const credentials = new CredentialStore(data, masterKeys, clock);
  const jitUnits = jitStore(data, { shard, clock });
  const grants = jitUnits.outside.grants;
  const jit = new JitService({ store: jitUnits, policies, audit, notifier, clock, logger });
  // One outbox for the presses that decide and the janitor that sweeps up: it is what keeps a notice from going twice.
  const requestOutbox = new RequestNoticeOutbox({ requests: jitUnits.outside.requests, grants, policies, notifier, clock, logger });
  const jitRequests = new JitRequestService({
    units: jitUnits,
    jit,
    policies,
    audit,
    notifier,
    clock,
    outbox: requestOutbox,
    requestTtlMs: config.JIT_REQUEST_TTL_MINUTES * 60_000,
  });
  const jitExtensions = new ExtensionService({ units: jitUnits, reviews: jitRequests, policies, audit, clock });
  // Before the runner: it writes each template deployment's module files (materialise) before init.
  const templates = await buildTemplates({ config, data, clock, logger, audit, deploymentsRoot, gitTransport: templateGit });
  // What this process holds in the shared database (workspace leases, budget holds), kept alive by its heartbeat.
  const owner = processOwnerId(shard);
  const workspaceLeases = new WorkspaceLeases(data, clock, owner);
  const reservations = new BudgetReservations(data, clock, owner);
  const heartbeat = new LeaseHeartbeat([workspaceLeases, reservations], clock, (error) => logger.error({ err: error }, 'could not renew this process\'s leases'));
  const runner = new IacRunner({
    runs: runStoreFor(data, clock),
    scheduler: new RunScheduler(config.MAX_CONCURRENT_RUNS),
    leases: workspaceLeases,
    projects,
    resources,
    transitions: new ResourceStatusTransitions(resources, logger),
    executor,
    templates: templates.catalogue,
    layout,
    clock,
    logger,
    runTimeoutMs: config.RUN_TIMEOUT_MINUTES * 60_000,
    binDir: config.IAC_BIN_DIR,
    pluginCacheDir: config.TF_PLUGIN_CACHE_DIR ?? join(deploymentsRoot, '.plugin-cache'),
    stateEncryptionKeys: masterKeys.all(),
    audit,
    ...engineHost,
  });
  // Before any command: engines the last process left running are stopped, their runs marked interrupted.
  const interrupted = await recoverUnfinishedRuns({ data, resources, clock, logger, graceMs: engineHost.killGraceMs ?? DEFAULT_KILL_GRACE_MS, shard });
  logger.info({ runs: interrupted.runs.length, resources: interrupted.resources }, 'runs left unfinished by the last stop marked interrupted');
  // Their process is gone, so their workspaces are free now rather than when the leases expire.
  await workspaceLeases.releaseRuns(interrupted.runs);
  await runner.sweepStalePlanFiles(ownGuild);

  const approvalUnits = deployApprovalUnits(data, { shard, clock });
  const approvalRecords = approvalUnits.outside.approvals;
  // One outbox for the presses that decide and the janitor that expires, as for JIT requests.
  const approvalOutbox = new ApprovalNoticeOutbox({ records: approvalRecords, projects, resources, policies, notifier, logger });
  const deployApprovals: DeployApprovalStore = {
    records: approvalRecords,
    units: approvalUnits,
    outbox: approvalOutbox,
    cardEdits: new ApprovalCardEdits({ records: approvalRecords, factsOf: (approval) => approvalOutbox.factsOf(approval), notifier, logger }),
    ttlMs: config.DEPLOY_APPROVAL_TTL_MINUTES * 60_000,
  };
  // The janitor's drift checks run as the project's own runs do; their credentials are those a run would use unasked.
  const drift = new DriftService({
    checks: driftRepositoryFor(data.session, { shard }),
    projects,
    resources,
    runner,
    policies,
    audit,
    notifier,
    clock,
    logger,
    credentialsFor: (project) => credentialsForRun(app, project),
    sensitiveEnv: (project, deployment) => new SensitiveInputs(app).env(project, deployment),
  });
  const driftChecks = new DriftCheckJob({
    checks: drift.deps.checks,
    service: drift,
    load: () => runner.load,
    maxConcurrentRuns: config.MAX_CONCURRENT_RUNS,
    guildMayRun: async (guildId) => {
      const max = (await tiers.get(guildId)).limits.maxConcurrentRuns;
      const { running, queued } = await runner.loadOf(guildId);
      return max === null || running + queued < max;
    },
    clock,
    logger,
  });

  const ttls = ttlRepositoryFor(data.session, { shard });
  // The destroyer runs DestroyService, which needs the whole context: made once the context is.
  let ttlDestroyer: TtlDestroyer | undefined;
  const destroyer = () => ttlDestroyer ?? (ttlDestroyer = TtlDestroyer.from(app, ttls, config.TTL_DESTROY_RETRY_MINUTES * 60_000));

  const app: AppContext = {
    config,
    clock,
    logger,
    data,
    vault,
    pricing,
    advisor: createAdvisor(config, { pricing, projects, resources, logger }),
    policies,
    reservations,
    projects,
    projectOverviews: projectOverviewsFor(data.session, resourceTotalsFor(data.session)),
    resources,
    layout,
    runner,
    audit,
    jit,
    jitRequests,
    jitExtensions,
    credentials,
    deployApprovals,
    serviceCredentials: {
      defaults: serviceDefaultsFromEnv(config),
      allowedGuilds: parseServiceGuildAllowList(config.SERVICE_CREDENTIALS_GUILDS),
    },
    notifier,
    tiers,
    templates: templates.catalogue,
    templateAdmin: templates.service,
    drift,
    deploymentTtls: new DeploymentTtls({ jit, policies, audit, projects, clock, ttls, destroyer, servesGuild: ownGuild }),
  };

  // The janitor's bulk writes are checkpointed off the event loop (a checkpoint waits for the disk).
  const checkpointer = database.sqlite && WalCheckpointer.start(config.DATABASE_PATH, database.sqlite);
  const janitor = createJanitor({
    schedule: config.JANITOR_SCHEDULE,
    checkpoint: checkpointer && (() => checkpointer.checkpoint()),
    grants,
    clock,
    audit,
    policies,
    notifier,
    vault,
    runs: runner,
    logger,
    requests: { units: jitUnits, outbox: requestOutbox },
    reminders: { repository: reminderRepositoryFor(data.session, { shard }), leadMs: config.JIT_EXPIRY_REMINDER_MINUTES * 60_000 },
    more: [
      new DeployApprovalExpiryJob({
        ...deployApprovals,
        clock,
        logger,
        discard: (approval) => DeployService.from(app).approvals.discardPlanOf(approval),
      }),
      ...ttlJobs({ ttls, reminders: ttlReminderRepositoryFor(data.session, { shard }), destroyer: destroyer(), policies, notifier, clock, logger, leadsMs: config.TTL_REMINDER_LEADS }),
    ],
    driftChecks,
  });

  // Last, once nothing can fail: no lease is taken before the first command.
  heartbeat.start();
  return {
    app,
    database,
    janitor,
    driftChecks,
    heartbeat,
    async announceInterruptedRuns() {
      const runs = interrupted.runs.splice(0);
      await tellInterruptedMembers(runs, { notifier, projects, logger });
    },
    async shutdown() {
      await runner.shutdown();
      await janitor.stop();
      await driftChecks.idle();
      // Destroys at the end of a TTL run beside the ticks: the runner's shutdown has just ended their engines.
      await destroyer().settled();
      await checkpointer?.close();
      heartbeat.stop();
      vault.purgeAll();
      await audit.flush();
      await database.close();
    },
  };
}
