/**
 * A guild's cloud projects. Every read and write is scoped by guild id, so another guild's project behaves exactly
 * like one that does not exist. The database holds the vault session id, never the secrets behind it.
 */
import { and, asc, eq, inArray, isNull, or, sql } from 'drizzle-orm';
import { z } from 'zod';
import {
  CREDENTIAL_SOURCES,
  PROVIDERS,
  STATE_BACKENDS,
  cloudCredentials,
  cloudProjects,
  type StateBackendKind,
} from '../db/schema.js';
import type { Db } from '../db/index.js';
import { GuildCache } from '../db/guild-cache.js';
import { systemClock, type Clock } from '../shared/clock.js';
import { parseBackendSettings, type BackendSettings } from '../state/backend.js';
import { InvalidProjectName } from '../state/errors.js';
import { StateLayout } from '../state/layout.js';
import { assertSnowflake } from '../shared/snowflake.js';
import { InvalidProject, ProjectExists, ProjectNotFound } from './errors.js';
import { normaliseRegion } from './regions.js';
import { snowflakeSchema } from '../shared/snowflake.js';
import { printable } from '../shared/member-text.js';
import { toProject, type NewProject, type Project, type ProjectName, type ProjectQuery } from './project.js';

export type { NewProject, Project, ProjectName, ProjectQuery, ProjectStatus } from './project.js';


const VAULT_SESSION_ID = /^[A-Za-z0-9_-]{16,64}$/;

const newProjectSchema = z.object({
  provider: z.enum(PROVIDERS, { error: `a provider: ${PROVIDERS.join(', ')}` }),
  region: z.string({ error: 'a region' }),
  vaultSessionId: z.string().regex(VAULT_SESSION_ID, 'a vault session id').optional(),
  credentialSource: z.enum(CREDENTIAL_SOURCES, { error: `a credential source: ${CREDENTIAL_SOURCES.join(', ')}` }).optional(),
  credentialId: z.number().int().positive('a stored credential id').optional(),
  stateBackend: z.enum(STATE_BACKENDS, { error: `a state backend: ${STATE_BACKENDS.join(', ')}` }).optional(),
  createdBy: snowflakeSchema,
});

type ProjectRow = typeof cloudProjects.$inferSelect;
/** The guild, the name as typed and its slug; then the same again for the slug branch. */
type ReferenceParams = [string, string, string, string, string, string];

/**
 * Written out, not bound: the partial indexes on live projects (`WHERE status = 'active'`) serve a query only when
 * SQLite can see at prepare time that it asks for live projects, and a statement prepared once cannot be re-planned
 * for every value bound to it.
 */
export const LIVE_PROJECT = sql`${cloudProjects.status} = 'active'`;
const ARCHIVED_PROJECT = sql`${cloudProjects.status} = 'archived'`;

/** References a guild's lookup cache holds at most (#byReference): far more than the projects a guild deploys to. */
const REFERENCES_KEPT_PER_GUILD = 64;
const guildId = sql.placeholder('guildId');
const exact = sql.placeholder('exact');
const slugged = sql.placeholder('slug');

export class ProjectRepository {
  // Prepared once: lookups by name run for nearly every command. Each OR branch names the guild and the live
  // status, so SQLite answers it from one partial index (guild, name) or (guild, slug) instead of the guild's rows.
  readonly #liveByReference;
  /** Archived projects have no index of their own: only tests and rare tools ask for them by name. */
  readonly #archivedByReference;
  readonly #live;
  readonly #liveNames;
  readonly #byId;
  /**
   * Each guild's live project names (what autocomplete offers on every keystroke), kept per guild: every write of
   * cloud_projects goes through this class and forgets the guild; another process's commit empties it (guild-cache.ts).
   */
  readonly #names: GuildCache<ReadonlyArray<ProjectName>>;
  /**
   * Each guild's live projects as looked up by name or slug (what every /cloud-deploy, /cloud-destroy… does first),
   * by the reference typed: kept and forgotten as `#names` is. Only what was found: an unknown name asks again.
   */
  readonly #byReference: GuildCache<Map<string, ProjectRow>>;

  constructor(
    private readonly db: Db,
    private readonly clock: Clock = systemClock,
  ) {
    // Plain SQL on better-sqlite3, not drizzle's prepared query: every /cloud-deploy looks its project up, and
    // drizzle's mapping of the parameters and of each row cost more than the lookup itself (docs/performance.md).
    // Positional parameters, each branch its own: with one named guild parameter shared by both, SQLite takes the
    // guild out of the OR and reads all the guild's live projects off one index (query-plans.test.ts catches it).
    this.#liveByReference = db.$client.prepare<ReferenceParams, ProjectRow>(
      `SELECT * FROM cloud_projects
       WHERE (guild_id = ? AND status = 'active' AND name IN (?, ?))
          OR (guild_id = ? AND status = 'active' AND slug IN (?, ?))`,
    );
    this.#archivedByReference = db
      .select()
      .from(cloudProjects)
      .where(
        and(
          eq(cloudProjects.guild_id, guildId),
          ARCHIVED_PROJECT,
          or(inArray(cloudProjects.name, [exact, slugged]), inArray(cloudProjects.slug, [exact, slugged])),
        ),
      )
      .prepare();
    this.#live = db.select().from(cloudProjects).where(and(eq(cloudProjects.guild_id, guildId), LIVE_PROJECT)).orderBy(asc(cloudProjects.name)).prepare();
    this.#byId = db
      .select()
      .from(cloudProjects)
      .where(and(eq(cloudProjects.id, sql.placeholder('id')), eq(cloudProjects.guild_id, guildId)))
      .prepare();
    this.#liveNames = db
      .select({ name: cloudProjects.name, provider: cloudProjects.provider, region: cloudProjects.region })
      .from(cloudProjects)
      .where(and(eq(cloudProjects.guild_id, guildId), LIVE_PROJECT))
      .orderBy(asc(cloudProjects.name))
      .prepare();
    this.#names = new GuildCache(db.$client, 'cloud_projects.live_names');
    this.#byReference = new GuildCache(db.$client, 'cloud_projects.live_by_reference');
  }

  /**
   * Records a new project.
   * @throws InvalidProjectName, InvalidRegion or InvalidProject for bad input (every problem listed where possible).
   * @throws ProjectExists when the guild already has a project with that name or the same slug.
   */
  create(input: NewProject): Project {
    assertSnowflake(input.guildId, 'guildId');
    const name = typeof input.name === 'string' ? input.name.trim() : '';
    const slug = StateLayout.slugify(name);
    const parsed = newProjectSchema.safeParse(input);
    if (!parsed.success) throw new InvalidProject(parsed.error.issues.map((issue) => `expected ${issue.message}`));
    const valid = parsed.data;
    const region = normaliseRegion(valid.provider, valid.region);
    const { stateBackend, backendSettings } = resolveBackend(valid.stateBackend, input.backendSettings);
    const credentialSource = valid.credentialSource ?? (valid.credentialId === undefined ? 'ephemeral' : 'stored');
    if ((credentialSource === 'stored') !== (valid.credentialId !== undefined)) {
      throw new InvalidProject(['a stored credential is used exactly when the credential source is "stored"']);
    }

    const created = this.db.transaction((tx) => {
      if (valid.credentialId !== undefined) {
        const credential = tx
          .select({ id: cloudCredentials.id, provider: cloudCredentials.provider })
          .from(cloudCredentials)
          .where(
            and(
              eq(cloudCredentials.id, valid.credentialId),
              eq(cloudCredentials.guild_id, input.guildId),
              isNull(cloudCredentials.deleted_at),
            ),
          )
          .get();
        if (!credential) throw new InvalidProject(['this server has no such stored credential']);
      }
      const clash = tx
        .select({ id: cloudProjects.id })
        .from(cloudProjects)
        .where(
          and(
            eq(cloudProjects.guild_id, input.guildId),
            eq(cloudProjects.status, 'active'),
            or(eq(cloudProjects.name, name), eq(cloudProjects.slug, slug)),
          ),
        )
        .get();
      if (clash) throw new ProjectExists(name);
      const now = this.clock.now();
      const row = tx
        .insert(cloudProjects)
        .values({
          guild_id: input.guildId,
          name,
          slug,
          provider: valid.provider,
          region,
          vault_session_id: valid.vaultSessionId ?? null,
          credential_source: credentialSource,
          credential_id: valid.credentialId ?? null,
          state_backend: stateBackend,
          backend_settings: JSON.stringify(backendSettings),
          status: 'active',
          created_by: valid.createdBy,
          created_at: now,
          updated_at: now,
        })
        .returning()
        .get();
      return toProject(row);
    });
    this.#names.forget(input.guildId);
    this.#byReference.forget(input.guildId);
    return created;
  }

  /**
   * A project of this guild by its exact name, its slug, or a name that slugifies to its slug.
   * @throws ProjectNotFound — also for another guild's project and (unless included) an archived one.
   */
  get(guildId: string, slugOrName: string, options: ProjectQuery = {}): Project {
    assertSnowflake(guildId, 'guildId');
    const reference = typeof slugOrName === 'string' ? slugOrName.trim() : '';
    const known = options.includeArchived ? undefined : this.#byReference.get(guildId, () => new Map<string, ProjectRow>());
    let row = known?.get(reference);
    if (!row) {
      const slug = slugOrSelf(reference);
      const live = this.#liveByReference.all(guildId, reference, slug, guildId, reference, slug);
      const matches = options.includeArchived ? [...live, ...this.#archivedByReference.all({ guildId, exact: reference, slug })] : live;
      // A live project wins over a forgotten one of the same name (live come first), and an exact name over a slug match.
      row = matches.find((m) => m.name === reference) ?? matches[0];
      if (!row) throw new ProjectNotFound(printable(reference));
      // Bounded: a member typing names at random makes the guild look each one up again, not the cache grow.
      if (known && known.size >= REFERENCES_KEPT_PER_GUILD) known.clear();
      known?.set(reference, row);
    }
    return toProject(row);
  }

  /** A project of this guild by id; throws ProjectNotFound as `get` does. */
  getById(guildId: string, projectId: number, options: ProjectQuery = {}): Project {
    const row = this.#row(guildId, projectId);
    if (!row || (row.status === 'archived' && !options.includeArchived)) throw new ProjectNotFound(`#${projectId}`);
    return toProject(row);
  }

  /** The guild's projects, by name. */
  list(guildId: string, options: ProjectQuery = {}): Project[] {
    assertSnowflake(guildId, 'guildId');
    if (!options.includeArchived) return this.#live.all({ guildId }).map(toProject);
    return this.db.select().from(cloudProjects).where(eq(cloudProjects.guild_id, guildId)).orderBy(asc(cloudProjects.name)).all().map(toProject);
  }

  /**
   * Up to `limit` live projects whose name contains `typed` (any case), by name: what autocomplete offers, from the
   * guild's cached names (only the three columns it shows are read, once until the next write).
   */
  search(guildId: string, typed: string, limit: number): ProjectName[] {
    assertSnowflake(guildId, 'guildId');
    const names = this.#names.get(guildId, () => Object.freeze(this.#liveNames.all({ guildId }).map((name) => Object.freeze(name))));
    const wanted = typed.toLowerCase();
    // SQLite's lower() folds ASCII letters only, so matching in SQL would miss "CAFÉ" for "café": filter here.
    if (wanted === '') return names.slice(0, limit);
    const found: ProjectName[] = [];
    for (const project of names) {
      if (found.length >= limit) break;
      if (project.name.toLowerCase().includes(wanted)) found.push(project);
    }
    return found;
  }

  /** Points the project at a (new) vault session, or at none. */
  setVaultSession(guildId: string, projectId: number, sessionId: string | null): Project {
    if (sessionId !== null && !VAULT_SESSION_ID.test(sessionId)) throw new InvalidProject(['expected a vault session id']);
    return this.#update(guildId, projectId, { vault_session_id: sessionId });
  }

  /** Marks the project archived (forgotten): hidden from lists and lookups, its name and folder free for reuse. */
  archive(guildId: string, projectId: number): Project {
    return this.#update(guildId, projectId, { status: 'archived' });
  }

  #row(guildId: string, projectId: number): ProjectRow | undefined {
    assertSnowflake(guildId, 'guildId');
    if (!Number.isSafeInteger(projectId)) return undefined;
    return this.#byId.get({ id: projectId, guildId });
  }

  #update(guildId: string, projectId: number, values: Partial<Pick<ProjectRow, 'vault_session_id' | 'status'>>): Project {
    assertSnowflake(guildId, 'guildId');
    this.#names.forget(guildId);
    this.#byReference.forget(guildId);
    const row = this.db
      .update(cloudProjects)
      .set({ ...values, updated_at: this.clock.now() })
      .where(and(eq(cloudProjects.id, projectId), eq(cloudProjects.guild_id, guildId)))
      .returning()
      .get();
    if (!row) throw new ProjectNotFound(`#${projectId}`);
    return toProject(row);
  }
}

function resolveBackend(
  kind: StateBackendKind | undefined,
  settings: BackendSettings | undefined,
): { stateBackend: StateBackendKind; backendSettings: BackendSettings } {
  if (settings === undefined) {
    if (kind !== undefined && kind !== 'local') throw new InvalidProject([`the "${kind}" state backend needs its settings`]);
    return { stateBackend: 'local', backendSettings: { kind: 'local' } };
  }
  const backendSettings = parseBackendSettings(settings);
  if (kind !== undefined && kind !== backendSettings.kind) {
    throw new InvalidProject([`the state backend is "${kind}" but its settings are for "${backendSettings.kind}"`]);
  }
  return { stateBackend: backendSettings.kind, backendSettings };
}

/** The folder name a reference stands for, or the reference itself when it makes none (it can still match a name). */
function slugOrSelf(reference: string): string {
  try {
    return StateLayout.slugify(reference);
  } catch (error) {
    if (!(error instanceof InvalidProjectName)) throw error;
    return reference;
  }
}
