/**
 * The parts template deployments stand on: the migration that maps existing rows to the built-ins, each deployment's
 * folder and state key, the sweep and checks that must reach (or skip) deployment folders, and the vault session
 * a deployment's secrets join.
 */
import { copyFileSync, existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { drizzle } from 'drizzle-orm/better-sqlite3';
import { migrate } from 'drizzle-orm/better-sqlite3/migrator';
import { afterEach, describe, expect, it } from 'vitest';
import { MIGRATIONS_DIR, openDatabase } from '../src/db/index.js';
import { prunePlansEverywhere } from '../src/engine/plan-files.js';
import { sqliteDataAccess } from '../src/db/data-access.js';
import { resourceRepositoryFor } from '../src/projects/resource-repository.js';
import { backendBlock } from '../src/state/backend.js';
import { InvalidProjectName, PathEscape } from '../src/state/errors.js';
import { StateLayout } from '../src/state/layout.js';
import { findUnsafeEntries } from '../src/state/workspace-guard.js';
import { isDeploymentFolderName } from '../src/engine/run-workspace.js';
import { EphemeralVault } from '../src/vault/ephemeral-vault.js';
import { withoutDeploymentEntries } from '../src/vault/deployment-entries.js';
import { FakeClock } from './support/clock.js';
import { makeTempDir } from './support/tmp.js';

const GUILD = '111111111111111111';
const MEMBER = '300000000000000001';

const cleanups: Array<() => void> = [];
afterEach(() => cleanups.splice(0).forEach((cleanup) => cleanup()));
function tmp(): string {
  const { dir, cleanup } = makeTempDir();
  cleanups.push(cleanup);
  return dir;
}

describe('migration 0011_template_deployments', () => {
  it('maps every existing resource to the built-in template of its type, with no inputs and the project’s folder', async () => {
    const dir = tmp();
    const before = join(dir, 'drizzle-before');
    mkdirSync(join(before, 'meta'), { recursive: true });
    const journal = JSON.parse(readFileSync(join(MIGRATIONS_DIR, 'meta/_journal.json'), 'utf8')) as { entries: Array<{ tag: string }> };
    const upTo = journal.entries.findIndex((entry) => entry.tag === '0011_template_deployments');
    expect(upTo).toBeGreaterThan(0);
    for (const entry of journal.entries.slice(0, upTo)) copyFileSync(join(MIGRATIONS_DIR, `${entry.tag}.sql`), join(before, `${entry.tag}.sql`));
    writeFileSync(join(before, 'meta/_journal.json'), JSON.stringify({ ...journal, entries: journal.entries.slice(0, upTo) }));
    const path = join(dir, 'old.db');
    const old = new Database(path);
    migrate(drizzle(old), { migrationsFolder: before });
    old.prepare("INSERT INTO cloud_projects (guild_id, name, slug, provider, region, created_by, created_at, updated_at) VALUES (?, 'web', 'web', 'gcp', 'us-central1', ?, 1, 1)").run(GUILD, MEMBER);
    const insert = old.prepare("INSERT INTO cloud_resources (project_id, guild_id, name, resource_type, instance_type, status, created_by, created_at, updated_at) VALUES (1, ?, ?, ?, ?, 'active', ?, 1, 1)");
    insert.run(GUILD, 'vm-1', 'vm', 'e2-micro', MEMBER);
    insert.run(GUILD, 'bucket-1', 'bucket', null, MEMBER);
    old.close();

    const upgraded = openDatabase(path);
    cleanups.unshift(() => upgraded.close());
    expect(upgraded.sqlite.prepare('SELECT template FROM cloud_resources ORDER BY id').all()).toEqual([{ template: 'vm' }, { template: 'bucket' }]);
    const rows = await resourceRepositoryFor(sqliteDataAccess(upgraded).session).listByGuild(GUILD);
    expect(rows.map((r) => ({ type: r.resourceType, template: r.template, inputs: r.inputs, secrets: r.sensitiveInputs, workspace: r.workspace, revision: r.templateRevision }))).toEqual([
      { type: 'vm', template: 'vm', inputs: {}, secrets: [], workspace: null, revision: null },
      { type: 'bucket', template: 'bucket', inputs: {}, secrets: [], workspace: null, revision: null },
    ]);
  });
});

describe('a deployment’s folder and state', () => {
  it('is named after the template and the row, inside its project’s folder, owner-only, never outside it', () => {
    const layout = new StateLayout(join(tmp(), 'deployments'));
    expect(StateLayout.deploymentFolder('Web App!', 12)).toBe('web-app-12');
    expect(StateLayout.deploymentFolder('../..', 3)).toBe('deployment-3');
    const folder = layout.deploymentDir(GUILD, 'web', 'web-app-12');
    expect(folder).toBe(join(layout.workspaceDir(GUILD, 'web'), 'web-app-12'));
    for (const hostile of ['..', '../other', 'a/b', '.terraform', '']) expect(() => layout.deploymentDir(GUILD, 'web', hostile)).toThrow(InvalidProjectName);
    // A link planted where a deployment's folder goes is refused, not followed.
    symlinkSync(tmp(), join(layout.workspaceDir(GUILD, 'web'), 'planted-1'));
    expect(() => layout.deploymentDir(GUILD, 'web', 'planted-1')).toThrow(PathEscape);
    expect(() => layout.deploymentPath(GUILD, 'web', 'planted-1')).toThrow(PathEscape);
    expect(layout.removeDeployment(GUILD, 'web', 'web-app-12')).toBe(true);
    expect(existsSync(folder)).toBe(false);
  });

  it('has a state key of its own beside the project’s, on every backend', () => {
    const s3 = { kind: 's3' as const, bucket: 'state-bucket', region: 'us-east-1' };
    expect(backendBlock('s3', GUILD, 'web', s3, 'web-app-12')).toMatchObject({ s3: { key: `terraform-state/${GUILD}/web/deployments/web-app-12/terraform.tfstate` } });
    expect(backendBlock('s3', GUILD, 'web', s3)).toMatchObject({ s3: { key: `terraform-state/${GUILD}/web/terraform.tfstate` } });
    expect(backendBlock('gcs', GUILD, 'web', { kind: 'gcs', bucket: 'state-bucket' }, 'web-app-12')).toEqual({ gcs: { bucket: 'state-bucket', prefix: `tenants/${GUILD}/terraform/deployments/web/web-app-12` } });
    const azure = { kind: 'azurerm' as const, resourceGroupName: 'rg', storageAccountName: 'acct', containerName: 'tfstate' };
    expect(backendBlock('azurerm', GUILD, 'web', azure, 'web-app-12')).toMatchObject({ azurerm: { key: `${GUILD}-web--web-app-12-tfstate` } });
    expect(backendBlock('local', GUILD, 'web', { kind: 'local' }, 'web-app-12')).toEqual({ local: { path: 'terraform.tfstate' } });
    expect(() => backendBlock('local', GUILD, 'web', { kind: 'local' }, '../x')).toThrow(TypeError);
  });

  it('is swept for stale plans at start-up, and skipped by the project’s own safety check (it has its own)', async () => {
    const root = join(tmp(), 'deployments');
    const layout = new StateLayout(root);
    const project = layout.workspaceDir(GUILD, 'web');
    const deployment = layout.deploymentDir(GUILD, 'web', 'hello-1');
    for (const folder of [project, deployment]) {
      mkdirSync(join(folder, '.plans'), { recursive: true });
      writeFileSync(join(folder, '.plans', 'run-7.tfplan'), 'stale');
    }
    expect(await prunePlansEverywhere(root, async () => false)).toBe(2);
    expect(existsSync(join(deployment, '.plans', 'run-7.tfplan'))).toBe(false);

    // The deployment's provider links (into the cache) are fine for it; the project's walk does not see them at all.
    const cache = join(tmp(), 'cache');
    mkdirSync(cache);
    mkdirSync(join(deployment, '.terraform', 'providers'), { recursive: true });
    symlinkSync(cache, join(deployment, '.terraform', 'providers', 'p'));
    symlinkSync(tmp(), join(project, 'planted-2'));
    const unsafe = findUnsafeEntries({ workspace: project, pluginCacheDir: cache, skipFolder: isDeploymentFolderName });
    expect(unsafe).toEqual([{ entry: 'planted-2', reason: 'symlink' }]);
    expect(findUnsafeEntries({ workspace: deployment, pluginCacheDir: cache })).toEqual([]);
  });
});

describe('a deployment’s secrets in its project’s vault session', () => {
  it('join the session under a fresh key, keep its owner and expiry, and are not read as credentials', () => {
    const clock = new FakeClock();
    const vault = new EphemeralVault({ ttlMs: 30 * 60_000, maxSessionsPerGuild: 5, clock });
    const session = vault.open(GUILD, MEMBER, { project_id: 'web-project-123' });
    clock.advanceMinutes(10);
    vault.amend(GUILD, session.sessionId, { set: { 'deployment.4': '{"db_password":"s3cret"}' } });
    expect(vault.info(GUILD, session.sessionId)).toEqual(session);
    const held = vault.read(GUILD, session.sessionId);
    expect({ ...held }).toEqual({ project_id: 'web-project-123', 'deployment.4': '{"db_password":"s3cret"}' });
    expect(withoutDeploymentEntries(held)).toEqual({ project_id: 'web-project-123' });
    expect(() => vault.amend('222222222222222222', session.sessionId, { set: { x: 'y' } })).toThrow(/no such|not found|session/i);

    vault.amend(GUILD, session.sessionId, { remove: ['deployment.4'] });
    expect(Object.keys(vault.read(GUILD, session.sessionId))).toEqual(['project_id']);
    // Removing the last value closes the session.
    vault.amend(GUILD, session.sessionId, { remove: ['project_id'] });
    expect(vault.list(GUILD)).toEqual([]);
    // Added late, it lives no longer than the session did.
    const second = vault.open(GUILD, MEMBER, { project_id: 'web-project-123' });
    clock.advanceMinutes(29);
    vault.amend(GUILD, second.sessionId, { set: { 'deployment.5': '{}' } });
    clock.advanceMinutes(2);
    expect(() => vault.read(GUILD, second.sessionId)).toThrow(/expired/i);
  });
});
