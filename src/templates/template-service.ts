/**
 * The use cases behind a guild's template administration: add a template from git (fetch, check, pin the commit),
 * update it to what its ref points at now, remove it, and enable or disable the operator's templates. Each one
 * checks who asks, and leaves an audit entry, refusals included. Nothing here knows which front end asked.
 */
import type { z } from 'zod';
import type { AuditLog } from '../audit/audit-log.js';
import type { UnitOfWork } from '../db/data-access.js';
import { InvalidOptions } from '../interaction/errors.js';
import { isUserError } from '../shared/errors.js';
import { builtinTemplate } from './builtin-templates.js';
import { GitTemplatesOff, NotAnOperatorTemplate, TemplateAdminOnly, TemplateNameTaken, TemplateNotChangeable, TemplateNotFound } from './errors.js';
import type { GitFetcher } from './git-fetcher.js';
import { gitRefSchema, gitSubdirSchema, type GitTransport } from './git-transport.js';
import type { ModuleCatalogue } from './module-catalogue.js';
import { inspectModule } from './module-reader.js';
import type { Template } from './template.js';
import { parseTemplateName } from './template-name.js';
import type { StoredTemplate, TemplateRepository } from './template-repository.js';
import type { TemplateStore } from './template-store.js';

export interface TemplateServiceDeps {
  catalogue: ModuleCatalogue;
  /** The repository outside a transaction, and bound to one where a change and the store's files go together. */
  templates: UnitOfWork<TemplateRepository>;
  store: TemplateStore;
  fetcher: GitFetcher;
  transport: GitTransport;
  audit: Pick<AuditLog, 'record'>;
  /** TEMPLATES_FROM_GUILDS and TEMPLATE_ALLOW_HOST_ACCESS. */
  settings: { fromGuilds: boolean; allowHostAccess: boolean };
}

export interface Asker {
  id: string;
  isGuildAdmin: boolean;
}

export interface TemplateOverview {
  /** What members can deploy. */
  deployable: Template[];
  /** The operator's templates this guild has not enabled. */
  available: StoredTemplate[];
  /** This guild's git templates while the operator has templates from git turned off: kept, not deployable. */
  dormant: StoredTemplate[];
}

export interface AddFromGit {
  guildId: string;
  actor: Asker;
  name: string;
  url: string;
  /** Branch, tag or full commit; the default branch when left out. */
  ref?: string | undefined;
  subdir?: string | undefined;
  description?: string | undefined;
}

export interface Repinned {
  before: StoredTemplate;
  after: StoredTemplate;
  /** False when the ref still points at the pinned commit. */
  changed: boolean;
}

/** A template as `show` presents it; for an operator template, also whether this guild enabled it. */
export interface ShownTemplate {
  template: Template;
  enabled?: boolean;
}

function parseOption<T extends z.ZodType>(schema: T, option: string, value: unknown): z.output<T> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw new InvalidOptions([`\`${option}\`: ${parsed.error.issues[0]?.message ?? 'not valid'}`]);
  return parsed.data;
}

export class TemplateService {
  constructor(private readonly deps: TemplateServiceDeps) {}

  private get repository(): TemplateRepository {
    return this.deps.templates.outside;
  }

  async overview(guildId: string): Promise<TemplateOverview> {
    const { repository } = this;
    const { settings, catalogue } = this.deps;
    const enabled = new Set((await repository.enabledFor(guildId)).map((template) => template.id));
    return {
      deployable: await catalogue.list(guildId),
      available: (await repository.operatorTemplates()).filter((template) => !enabled.has(template.id)),
      dormant: settings.fromGuilds ? [] : await repository.guildTemplates(guildId),
    };
  }

  /** Any template this guild can see: its own, the built-ins, and every operator template (enabled or not). */
  async show(guildId: string, typed: string): Promise<ShownTemplate> {
    const name = typed.trim().toLowerCase();
    const builtin = builtinTemplate(name);
    if (builtin !== undefined) return { template: builtin };
    const own = await this.repository.findGuildTemplate(guildId, name);
    if (own !== undefined) return { template: own };
    const operator = await this.repository.findOperator(name);
    if (operator !== undefined) return { template: operator, enabled: await this.repository.isEnabled(guildId, operator.id) };
    throw new TemplateNotFound(name);
  }

  /**
   * Fetches the module at the ref, checks it (parser, limits, forbidden content), stores its files and pins the
   * commit. @throws TemplateAdminOnly, GitTemplatesOff, TemplateSourceRefused, TemplateNameTaken, fetch and module errors
   */
  async add(input: AddFromGit): Promise<StoredTemplate> {
    const { guildId, actor } = input;
    return this.audited(guildId, actor, 'template.add', input.name, async () => {
      const name = parseTemplateName(input.name);
      const ref = parseOption(gitRefSchema, 'ref', input.ref ?? 'HEAD');
      const subdir = parseOption(gitSubdirSchema, 'subdir', input.subdir ?? '');
      if (!this.deps.settings.fromGuilds) throw new GitTemplatesOff();
      await this.requireFreeName(guildId, name);
      const url = await this.deps.transport.checkUrl(input.url);
      const fetched = await this.deps.fetcher.fetch({ url, ref, subdir });
      const inspected = await inspectModule(fetched.files, { allowHostAccess: this.deps.settings.allowHostAccess });
      // Checked again after the fetch: another admin may have taken the name meanwhile.
      await this.requireFreeName(guildId, name);
      // The files are stored before the row commits: no run (in any process) sees the row before its files are
      // there, and a store that fails rolls the row back. The store writes synchronously: nothing awaited inside.
      const template = await this.deps.templates.transaction(async (repository) => {
        const inserted = await repository.insertGit({
          guildId,
          name,
          description: input.description?.trim() || undefined,
          gitUrl: url,
          gitSubdir: subdir,
          gitRef: ref,
          pinnedRevision: fetched.commit,
          filesDigest: inspected.digest,
          variables: inspected.variables,
          createdBy: actor.id,
        });
        this.deps.store.save(guildId, inserted.id, fetched.commit, fetched.files);
        return inserted;
      });
      return { result: template, details: { url, subdir, ref, commit: fetched.commit, inputs: inspected.variables.length } };
    });
  }

  /** Fetches the template's ref again (or `ref`, which becomes its ref) and pins what it points at now. */
  async update(input: { guildId: string; actor: Asker; name: string; ref?: string | undefined }): Promise<Repinned> {
    const { guildId, actor } = input;
    return this.audited(guildId, actor, 'template.update', input.name, async () => {
      const before = await this.ownGitTemplate(guildId, input.name, 'update');
      const ref = input.ref === undefined ? (before.gitRef ?? 'HEAD') : parseOption(gitRefSchema, 'ref', input.ref);
      if (!this.deps.settings.fromGuilds) throw new GitTemplatesOff();
      const url = await this.deps.transport.checkUrl(before.gitUrl ?? '');
      const fetched = await this.deps.fetcher.fetch({ url, ref, subdir: before.gitSubdir ?? '' });
      const inspected = await inspectModule(fetched.files, { allowHostAccess: this.deps.settings.allowHostAccess });
      // Re-pin, store and prune in one unit of work, so two updates at once cannot interleave: the gate on SQLite,
      // the row the re-pin holds until commit on PostgreSQL (a second update waits for it before storing).
      const after = await this.deps.templates.transaction(async (repository) => {
        const repinned = await repository.repin(guildId, before.id, { gitRef: ref, pinnedRevision: fetched.commit, filesDigest: inspected.digest, variables: inspected.variables }, actor.id);
        if (repinned !== undefined) this.deps.store.save(guildId, before.id, fetched.commit, fetched.files);
        this.deps.store.prune(guildId, before.id, repinned?.pinnedRevision);
        return repinned;
      });
      if (after === undefined) throw new TemplateNotFound(before.name);
      const changed = after.pinnedRevision !== before.pinnedRevision;
      return { result: { before, after, changed }, details: { ref, from: before.pinnedRevision, to: after.pinnedRevision, changed } };
    });
  }

  async remove(input: { guildId: string; actor: Asker; name: string }): Promise<StoredTemplate> {
    const { guildId, actor } = input;
    return this.audited(guildId, actor, 'template.remove', input.name, async () => {
      const template = await this.ownGitTemplate(guildId, input.name, 'remove');
      if (!(await this.repository.removeGuildTemplate(guildId, template.id))) throw new TemplateNotFound(template.name);
      this.deps.store.prune(guildId, template.id);
      return { result: template, details: { commit: template.pinnedRevision } };
    });
  }

  /** @returns the template, and whether this changed anything (false: it was enabled already). */
  async enable(input: { guildId: string; actor: Asker; name: string }): Promise<{ template: StoredTemplate; changed: boolean }> {
    const { guildId, actor } = input;
    return this.audited(guildId, actor, 'template.enable', input.name, async () => {
      const template = await this.operatorTemplate(guildId, input.name);
      if ((await this.repository.findGuildTemplate(guildId, template.name)) !== undefined) throw new TemplateNameTaken(template.name, 'git');
      const changed = await this.repository.enable(guildId, template.id, actor.id);
      return { result: { template, changed }, details: { changed, revision: template.pinnedRevision } };
    });
  }

  async disable(input: { guildId: string; actor: Asker; name: string }): Promise<{ template: StoredTemplate; changed: boolean }> {
    const { guildId, actor } = input;
    return this.audited(guildId, actor, 'template.disable', input.name, async () => {
      const template = await this.operatorTemplate(guildId, input.name);
      const changed = await this.repository.disable(guildId, template.id);
      return { result: { template, changed }, details: { changed } };
    });
  }

  private async requireFreeName(guildId: string, name: string): Promise<void> {
    if (builtinTemplate(name) !== undefined) throw new TemplateNameTaken(name, 'builtin');
    if ((await this.repository.findGuildTemplate(guildId, name)) !== undefined) throw new TemplateNameTaken(name, 'git');
    const operator = await this.repository.findOperator(name);
    if (operator !== undefined && (await this.repository.isEnabled(guildId, operator.id))) throw new TemplateNameTaken(name, 'operator');
  }

  private async ownGitTemplate(guildId: string, typed: string, action: string): Promise<StoredTemplate> {
    const name = typed.trim().toLowerCase();
    if (builtinTemplate(name) !== undefined) throw new TemplateNotChangeable(name, 'builtin', action);
    const own = await this.repository.findGuildTemplate(guildId, name);
    if (own !== undefined) return own;
    if ((await this.repository.findOperator(name)) !== undefined) throw new TemplateNotChangeable(name, 'operator', action);
    throw new TemplateNotFound(name);
  }

  private async operatorTemplate(guildId: string, typed: string): Promise<StoredTemplate> {
    const name = typed.trim().toLowerCase();
    if (builtinTemplate(name) !== undefined) throw new NotAnOperatorTemplate(name, 'builtin');
    const operator = await this.repository.findOperator(name);
    if (operator !== undefined) return operator;
    if ((await this.repository.findGuildTemplate(guildId, name)) !== undefined) throw new NotAnOperatorTemplate(name, 'git');
    throw new TemplateNotFound(name);
  }

  private requireAdmin(guildId: string, actor: Asker, action: string, target: string): void {
    if (actor.isGuildAdmin) return;
    this.deps.audit.record({ guildId, userId: actor.id, action, target, outcome: 'denied', details: { reason: 'not_admin' } });
    throw new TemplateAdminOnly();
  }

  /** Runs a change as an admin, and audits its success or the refusal (with the refusal's code). */
  private async audited<T>(guildId: string, actor: Asker, action: string, typed: string, work: () => Promise<{ result: T; details: Record<string, unknown> }> | { result: T; details: Record<string, unknown> }): Promise<T> {
    const target = typed.trim().toLowerCase().slice(0, 200);
    this.requireAdmin(guildId, actor, action, target);
    try {
      const { result, details } = await work();
      this.deps.audit.record({ guildId, userId: actor.id, action, target, outcome: 'success', details });
      return result;
    } catch (error) {
      const refused = isUserError(error);
      this.deps.audit.record({ guildId, userId: actor.id, action, target, outcome: refused ? 'failed' : 'error', details: refused ? { code: error.code } : undefined });
      throw error;
    }
  }
}
