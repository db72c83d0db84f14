import { afterEach, describe, expect, it } from 'vitest';
import { cloudCredentials } from '../src/db/schema.js';
import {
  IllegalStatusTransition,
  InvalidProject,
  InvalidRegion,
  InvalidResource,
  ProjectExists,
  ProjectNotFound,
  ResourceNotFound,
} from '../src/projects/errors.js';
import { sqliteDataAccess } from '../src/db/data-access.js';
import { projectRepositoryFor } from '../src/projects/project-repository.js';
import { resourceRepositoryFor } from '../src/projects/resource-repository.js';
import { STATUS_TRANSITIONS } from '../src/projects/resource-statuses.js';
import { RESOURCE_STATUSES, type ResourceStatus } from '../src/db/schema.js';
import { InvalidBackendSettings } from '../src/state/backend.js';
import { InvalidProjectName } from '../src/state/errors.js';
import { FakeClock } from './support/clock.js';
import { makeTestDatabase } from './support/tmp.js';
import { toMarkdown } from '../src/discord/markdown.js';

const GUILD_A = '111111111111111111';
const GUILD_B = '222222222222222222';
const ALICE = '333333333333333333';
const SESSION = 'AbCdEfGhIjKlMnOpQrStUvWx';

describe('projects and resources', () => {
  const cleanups: Array<() => void> = [];
  afterEach(() => cleanups.splice(0).forEach((cleanup) => cleanup()));

  function setup() {
    const database = makeTestDatabase();
    cleanups.push(database.cleanup);
    const clock = new FakeClock();
    const session = sqliteDataAccess(database).session;
    return {
      database,
      clock,
      session,
      projects: projectRepositoryFor(session, clock),
      resources: resourceRepositoryFor(session, clock),
    };
  }

  const base = { guildId: GUILD_A, name: 'Production API', provider: 'gcp', region: 'us-central1', createdBy: ALICE } as const;

  describe('projects', () => {
    it('creates a project with a slug, local state and the vault session id (never a secret)', async () => {
      const { projects, clock, database } = setup();
      const project = await projects.create({ ...base, vaultSessionId: SESSION });
      expect(project).toMatchObject({
        guildId: GUILD_A,
        name: 'Production API',
        slug: 'production-api',
        provider: 'gcp',
        region: 'us-central1',
        vaultSessionId: SESSION,
        credentialSource: 'ephemeral',
        credentialId: null,
        stateBackend: 'local',
        backendSettings: { kind: 'local' },
        status: 'active',
        createdAt: clock.now(),
      });
      const columns = Object.keys(database.sqlite.prepare('SELECT * FROM cloud_projects').get() as object);
      expect(columns).not.toContain('project_id');
    });

    it("reads a local project whose settings are the column's default '{}' (rows written without them)", async () => {
      const { projects, database } = setup();
      const created = await projects.create(base);
      database.sqlite.prepare("UPDATE cloud_projects SET backend_settings = '{}' WHERE id = ?").run(created.id);
      expect((await projects.get(GUILD_A, 'production-api')).backendSettings).toEqual({ kind: 'local' });
    });

    it('finds a project by name, slug or a name that slugifies to it', async () => {
      const { projects } = setup();
      const created = await projects.create(base);
      for (const reference of ['Production API', 'production-api', 'production api', '  PRODUCTION   API ']) {
        expect((await projects.get(GUILD_A, reference)).id).toBe(created.id);
      }
      expect((await projects.getById(GUILD_A, created.id)).name).toBe('Production API');
    });

    it('refuses a second project with the same name or the same folder in one guild', async () => {
      const { projects } = setup();
      await projects.create(base);
      await expect(projects.create(base)).rejects.toThrow(ProjectExists);
      await expect(projects.create({ ...base, name: 'production-api' })).rejects.toThrow(ProjectExists);
      await expect(projects.create({ ...base, name: 'Production  API!' })).rejects.toThrow(ProjectExists);
    });

    it('lets another guild use the same name, and hides each guild\'s projects from the other', async () => {
      const { projects } = setup();
      const a = await projects.create(base);
      const b = await projects.create({ ...base, guildId: GUILD_B });
      expect(b.slug).toBe(a.slug);
      expect((await projects.list(GUILD_A)).map((p) => p.id)).toEqual([a.id]);
      expect((await projects.list(GUILD_B)).map((p) => p.id)).toEqual([b.id]);
      await projects.create({ ...base, name: 'Secret Plans' });
      const failure = async (reference: string) => {
        try {
          await projects.get(GUILD_B, reference);
        } catch (error) {
          return error as ProjectNotFound;
        }
        throw new Error('expected ProjectNotFound');
      };
      // another guild's project is reported exactly like a missing one
      const crossGuild = await failure('Secret Plans');
      const missing = await failure('Never Made');
      expect(crossGuild).toBeInstanceOf(ProjectNotFound);
      expect(crossGuild.code).toBe(missing.code);
      expect(crossGuild.message.replace('Secret Plans', '?')).toBe(missing.message.replace('Never Made', '?'));
      await expect(projects.getById(GUILD_B, a.id)).rejects.toThrow(ProjectNotFound);
      await expect(projects.setVaultSession(GUILD_B, a.id, SESSION)).rejects.toThrow(ProjectNotFound);
      await expect(projects.archive(GUILD_B, a.id)).rejects.toThrow(ProjectNotFound);
      expect((await projects.get(GUILD_A, 'Production API')).status).toBe('active');
    });

    it('archives a project: hidden unless asked for, its name free for a new project', async () => {
      const { projects } = setup();
      const project = await projects.create(base);
      // Looked up first, so what archiving forgets is a lookup kept from before.
      expect((await projects.get(GUILD_A, 'Production API')).id).toBe(project.id);
      await projects.archive(GUILD_A, project.id);
      expect(await projects.list(GUILD_A)).toEqual([]);
      expect(await projects.list(GUILD_A, { includeArchived: true })).toHaveLength(1);
      await expect(projects.get(GUILD_A, 'Production API')).rejects.toThrow(ProjectNotFound);
      expect((await projects.get(GUILD_A, 'Production API', { includeArchived: true })).status).toBe('archived');
      const again = await projects.create(base);
      expect(again.id).not.toBe(project.id);
      // The live one is what a lookup finds, even when archived ones are included.
      expect((await projects.get(GUILD_A, 'Production API')).id).toBe(again.id);
      expect((await projects.get(GUILD_A, 'Production API', { includeArchived: true })).id).toBe(again.id);
      await expect(projects.create(base)).rejects.toThrow(ProjectExists);
    });

    it('offers for autocomplete at most the limit of live projects of the guild, by name, matching in any case', async () => {
      const { projects } = setup();
      const make = (guildId: string, name: string) => projects.create({ ...base, guildId, name });
      for (const name of ['Zeta', 'alpha', 'Beta', 'CAFÉ', 'gamma']) await make(GUILD_A, name);
      await projects.archive(GUILD_A, (await make(GUILD_A, 'archived-alpha')).id);
      await make(GUILD_B, 'alpha-of-b');
      expect((await projects.search(GUILD_A, '', 3)).map((p) => p.name)).toEqual(['Beta', 'CAFÉ', 'Zeta']);
      expect((await projects.search(GUILD_A, 'A', 25)).map((p) => p.name)).toEqual(['Beta', 'CAFÉ', 'Zeta', 'alpha', 'gamma']);
      expect(await projects.search(GUILD_A, 'café', 25)).toEqual([{ name: 'CAFÉ', provider: 'gcp', region: 'us-central1' }]);
      expect((await projects.search(GUILD_A, 'ALPHA', 1)).map((p) => p.name)).toEqual(['alpha']);
      expect((await projects.search(GUILD_B, 'a', 25)).map((p) => p.name)).toEqual(['alpha-of-b']);
    });

    it('renews the vault session on a project', async () => {
      const { projects, clock } = setup();
      const project = await projects.create(base);
      clock.advanceMinutes(5);
      const renewed = await projects.setVaultSession(GUILD_A, project.id, SESSION);
      expect(renewed.vaultSessionId).toBe(SESSION);
      expect(renewed.updatedAt).toBe(clock.now());
      expect((await projects.setVaultSession(GUILD_A, project.id, null)).vaultSessionId).toBeNull();
      await expect(projects.setVaultSession(GUILD_A, project.id, 'not a session id!')).rejects.toThrow(InvalidProject);
    });

    it('validates regions per provider and normalises Azure display names', async () => {
      const { projects } = setup();
      expect((await projects.create({ ...base, name: 'g', region: 'europe-west4' })).region).toBe('europe-west4');
      expect((await projects.create({ ...base, name: 'a', provider: 'aws', region: 'ap-southeast-2' })).region).toBe('ap-southeast-2');
      expect((await projects.create({ ...base, name: 'z', provider: 'azure', region: 'East US 2' })).region).toBe('eastus2');
      const bad: Array<[typeof base.provider | 'aws' | 'azure', string]> = [
        ['gcp', 'us-east-1'],
        ['aws', 'us-central1'],
        ['aws', '../../etc'],
        ['azure', 'east-us'],
        ['gcp', ''],
      ];
      for (const [provider, region] of bad) {
        await expect(projects.create({ ...base, name: `x-${provider}-${region}`, provider, region })).rejects.toThrow(InvalidRegion);
      }
      let message = '';
      try {
        await projects.create({ ...base, name: 'y', provider: 'aws', region: 'us-central1' });
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).toMatch(/"us-central1" is not an AWS region.*us-east-1/);
    });

    it('rejects bad names, providers, creators, session ids and backend settings', async () => {
      const { projects } = setup();
      await expect(projects.create({ ...base, name: '../..' })).rejects.toThrow(InvalidProjectName);
      await expect(projects.create({ ...base, name: '' })).rejects.toThrow(InvalidProjectName);
      await expect(projects.create({ ...base, provider: 'oracle' as 'gcp' })).rejects.toThrow(InvalidProject);
      await expect(projects.create({ ...base, createdBy: 'bob' })).rejects.toThrow(InvalidProject);
      await expect(projects.create({ ...base, vaultSessionId: 'x' })).rejects.toThrow(InvalidProject);
      await expect(projects.create({ ...base, stateBackend: 's3' })).rejects.toThrow(InvalidProject);
      await expect(
        projects.create({ ...base, stateBackend: 'gcs', backendSettings: { kind: 's3', bucket: 'abc', region: 'us-east-1' } }),
      ).rejects.toThrow(InvalidProject);
      await expect(projects.create({ ...base, backendSettings: { kind: 'gcs', bucket: '../x' } })).rejects.toThrow(InvalidBackendSettings);
      await expect(projects.create({ ...base, guildId: 'x' })).rejects.toThrow(TypeError);
      expect(await projects.list(GUILD_A)).toEqual([]);
    });

    it('stores non-secret backend settings and reads them back validated', async () => {
      const { projects } = setup();
      const project = await projects.create({ ...base, backendSettings: { kind: 'gcs', bucket: 'acme-state' } });
      expect(project.stateBackend).toBe('gcs');
      expect((await projects.get(GUILD_A, project.slug)).backendSettings).toEqual({ kind: 'gcs', bucket: 'acme-state' });
    });

    it('accepts a stored credential only from the same guild', async () => {
      const { projects, database, clock } = setup();
      const insert = (guildId: string) =>
        database.db
          .insert(cloudCredentials)
          .values({
            guild_id: guildId,
            name: 'prod',
            provider: 'gcp',
            ciphertext: Buffer.alloc(1),
            iv: Buffer.alloc(12),
            auth_tag: Buffer.alloc(16),
            master_key_id: 'k1',
            created_by: ALICE,
            created_at: clock.now(),
          })
          .returning()
          .get().id;
      const mine = insert(GUILD_A);
      const theirs = insert(GUILD_B);
      expect((await projects.create({ ...base, credentialId: mine })).credentialSource).toBe('stored');
      await expect(projects.create({ ...base, name: 'other', credentialId: theirs })).rejects.toThrow(InvalidProject);
      await expect(projects.create({ ...base, name: 'third', credentialSource: 'stored' })).rejects.toThrow(InvalidProject);
    });
  });

  describe('resources', () => {
    async function withProject() {
      const context = setup();
      const project = await context.projects.create(base);
      const vm = () =>
        context.resources.create({
          projectId: project.id,
          guildId: GUILD_A,
          name: 'web-1',
          resourceType: 'vm',
          instanceType: 'e2-medium',
          diskSizeGb: 20,
          estimatedMonthlyCost: 26.46,
          createdBy: ALICE,
        });
      return { ...context, project, vm };
    }

    it('records a planned resource and lists it by project and guild', async () => {
      const { resources, project, vm } = await withProject();
      const resource = await vm();
      expect(resource).toMatchObject({ status: 'planned', instanceType: 'e2-medium', diskSizeGb: 20, addresses: [], lastError: null });
      expect(await resources.get(GUILD_A, resource.id)).toEqual(resource);
      expect(await resources.listByProject(GUILD_A, project.id)).toEqual([resource]);
      expect(await resources.listByGuild(GUILD_A, ['planned'])).toEqual([resource]);
      expect(await resources.listByGuild(GUILD_A, ['active'])).toEqual([]);
      expect(await resources.listByGuild(GUILD_A, [])).toEqual([]);
    });

    it('never lets another guild see, create in or move a guild\'s resources', async () => {
      const { resources, project, vm } = await withProject();
      const resource = await vm();
      await expect(resources.get(GUILD_B, resource.id)).rejects.toThrow(ResourceNotFound);
      await expect(resources.setStatus(GUILD_B, resource.id, 'applying')).rejects.toThrow(ResourceNotFound);
      expect(await resources.listByProject(GUILD_B, project.id)).toEqual([]);
      expect(await resources.listByGuild(GUILD_B)).toEqual([]);
      await expect(
        resources.create({ projectId: project.id, guildId: GUILD_B, name: 'x', resourceType: 'bucket', estimatedMonthlyCost: 1, createdBy: ALICE }),
      ).rejects.toThrow(ProjectNotFound);
      expect((await resources.get(GUILD_A, resource.id)).status).toBe('planned');
    });

    it('follows the lifecycle planned → applying → active → destroying → destroyed, recording addresses and errors', async () => {
      const { resources, vm, clock } = await withProject();
      const { id } = await vm();
      await resources.setStatus(GUILD_A, id, 'applying');
      clock.advanceMinutes(1);
      const active = await resources.setStatus(GUILD_A, id, 'active', { addresses: ['google_compute_instance.web_1'] });
      expect(active.addresses).toEqual(['google_compute_instance.web_1']);
      expect(active.updatedAt).toBe(clock.now());
      await resources.setStatus(GUILD_A, id, 'destroying');
      const failed = await resources.setStatus(GUILD_A, id, 'failed', { lastError: 'x'.repeat(5000) });
      expect(failed.lastError).toHaveLength(2000);
      await resources.setStatus(GUILD_A, id, 'destroying');
      expect((await resources.setStatus(GUILD_A, id, 'destroyed')).status).toBe('destroyed');
    });

    it('refuses every transition outside the lifecycle', async () => {
      const { resources, vm, database } = await withProject();
      for (const from of RESOURCE_STATUSES) {
        for (const to of RESOURCE_STATUSES) {
          const allowed = (STATUS_TRANSITIONS[from] as readonly ResourceStatus[]).includes(to);
          const { id } = await vm();
          database.sqlite.prepare('UPDATE cloud_resources SET status = ? WHERE id = ?').run(from, id);
          if (allowed) expect((await resources.setStatus(GUILD_A, id, to)).status).toBe(to);
          else await expect(resources.setStatus(GUILD_A, id, to)).rejects.toThrow(IllegalStatusTransition);
        }
      }
      // spot-check the rules the engine relies on
      // A plan nobody applies is discarded straight to destroyed.
      expect(STATUS_TRANSITIONS.planned).toEqual(['applying', 'destroyed']);
      expect(STATUS_TRANSITIONS.applying).toContain('interrupted');
      expect(STATUS_TRANSITIONS.destroying).toContain('interrupted');
      expect(STATUS_TRANSITIONS.destroyed).toEqual([]);
    });

    it('lets only one of two racing writers move a resource', async () => {
      const { resources, vm, session, clock } = await withProject();
      const { id } = await vm();
      const other = resourceRepositoryFor(session, clock);
      await resources.setStatus(GUILD_A, id, 'applying');
      expect((await other.setStatus(GUILD_A, id, 'active')).status).toBe('active');
      await expect(resources.setStatus(GUILD_A, id, 'failed')).rejects.toThrow(IllegalStatusTransition);
    });

    it('rejects bad resource input with every problem named', async () => {
      const { resources, project } = await withProject();
      const good = { projectId: project.id, guildId: GUILD_A, name: 'r', resourceType: 'vm', instanceType: 'e2-micro', estimatedMonthlyCost: 1, createdBy: ALICE } as const;
      await expect(resources.create({ ...good, instanceType: undefined })).rejects.toThrow(InvalidResource);
      await expect(resources.create({ ...good, estimatedMonthlyCost: -1 })).rejects.toThrow(/at least \$0/);
      await expect(resources.create({ ...good, diskSizeGb: -5, name: '' })).rejects.toThrow(/disk size.*; expected a name|a name.*disk size/);
      await expect(resources.create({ ...good, resourceType: 'database' as 'vm' })).rejects.toThrow(InvalidResource);
      await expect(resources.create({ ...good, projectId: 9999 })).rejects.toThrow(ProjectNotFound);
      await expect(resources.setStatus(GUILD_A, 9999, 'applying')).rejects.toThrow(ResourceNotFound);
    });
  });
});

describe('resource errors point to a command that exists', () => {
  it('a missing resource or an illegal status change sends the member to /cloud-projects (there is no /cloud-resources)', async () => {
    for (const error of [new ResourceNotFound(7), new IllegalStatusTransition(7, 'destroyed', 'applying')]) {
      const shown = toMarkdown(error.text);
      expect(shown).toContain('`/cloud-projects`');
      expect(shown).not.toContain('/cloud-resources');
    }
  });
});
