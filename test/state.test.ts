import { existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { backendBlock, InvalidBackendSettings, writeBackendFile } from '../src/state/backend.js';
import { InvalidProjectName, PathEscape } from '../src/state/errors.js';
import { StateLayout } from '../src/state/layout.js';
import { makeTempDir } from './support/tmp.js';

const GUILD_A = '111111111111111111';
const GUILD_B = '222222222222222222';

describe('state layout', () => {
  const cleanups: Array<() => void> = [];
  afterEach(() => cleanups.splice(0).forEach((cleanup) => cleanup()));

  function makeLayout() {
    const { dir, cleanup } = makeTempDir();
    cleanups.push(cleanup);
    const root = join(dir, 'deployments');
    return { root, outside: dir, layout: new StateLayout(root) };
  }

  describe('slugify', () => {
    it('turns a project name into a short safe folder name', () => {
      expect(StateLayout.slugify('Production API')).toBe('production-api');
      expect(StateLayout.slugify('  Café  ++ Démo 2 ')).toBe('cafe-demo-2');
      expect(StateLayout.slugify('a'.repeat(64))).toHaveLength(48);
      expect(StateLayout.slugify(`${'a'.repeat(47)}-bcd`)).toBe('a'.repeat(47));
    });

    it('maps dots, separators and look-alike characters to dashes, never to a path', () => {
      const hostile = ['../etc', '..', '/etc/passwd', 'a/b', 'a\\b', 'x\uff0fy', 'x\u2024\u2024y', '\u2024\u2024', 'C:\\Windows'];
      for (const name of hostile) {
        let slug: string | undefined;
        try {
          slug = StateLayout.slugify(name);
        } catch (error) {
          expect(error).toBeInstanceOf(InvalidProjectName);
          continue;
        }
        expect(slug).toMatch(/^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/);
      }
      expect(StateLayout.slugify('x\uff0fy')).toBe('x-y');
    });

    it('rejects names that are empty, too long, contain control characters or slugify to nothing', () => {
      for (const name of ['', '   ', '....', '／／', '\u2024', 'ok\u0000name', 'line\nbreak', 'x'.repeat(65), '日本語']) {
        expect(() => StateLayout.slugify(name)).toThrow(InvalidProjectName);
      }
    });
  });

  it('creates guild and project folders owner-only, each guild in its own folder', () => {
    const { root, layout } = makeLayout();
    const a = layout.workspaceDir(GUILD_A, 'web');
    const b = layout.workspaceDir(GUILD_B, 'web');
    expect(a).toBe(join(layout.guildDir(GUILD_A), 'web'));
    expect(a).toMatch(/guild_111111111111111111\/web$/);
    expect(a).not.toBe(b);
    for (const dir of [root, join(root, `guild_${GUILD_A}`), a]) expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(layout.workspaceDir(GUILD_A, 'web')).toBe(a); // idempotent
  });

  it('refuses guild ids that are not snowflakes', () => {
    const { layout } = makeLayout();
    for (const bad of ['', '..', '123', '../111111111111111111', '111111111111111111/..', '１１１１１１１１１１１１１１１１１１']) {
      expect(() => layout.guildDir(bad)).toThrow(TypeError);
      expect(() => layout.workspaceDir(bad, 'web')).toThrow(TypeError);
    }
  });

  it('refuses every slug that is not a plain slug: dots, absolute paths, separators, NUL, look-alikes', () => {
    const { root, layout } = makeLayout();
    const bad = ['..', '.', '../guild_222222222222222222', '/etc', 'a/b', 'a\\b', 'a\u0000b', 'x\uff0fy', '\u2024\u2024', 'Web', '-web', 'web-', '', 'a'.repeat(49)];
    for (const slug of bad) {
      expect(() => layout.workspaceDir(GUILD_A, slug)).toThrow(InvalidProjectName);
      expect(() => layout.removeWorkspace(GUILD_A, slug)).toThrow(InvalidProjectName);
    }
    // nothing was created for any of them
    expect(existsSync(root) ? readdirSync(join(root, `guild_${GUILD_A}`)) : []).toEqual([]);
  });

  it('refuses a project folder that is a symlink planted inside the tree pointing outside', () => {
    const { outside, layout } = makeLayout();
    const target = join(outside, 'elsewhere');
    mkdirSync(target);
    symlinkSync(target, join(layout.guildDir(GUILD_A), 'evil'));
    expect(() => layout.workspaceDir(GUILD_A, 'evil')).toThrow(PathEscape);
    expect(() => layout.workspacePath(GUILD_A, 'evil')).toThrow(PathEscape);
    expect(() => layout.removeWorkspace(GUILD_A, 'evil')).toThrow(PathEscape);
    expect(existsSync(target)).toBe(true);
  });

  it('refuses a project folder symlinked into another guild', () => {
    const { layout } = makeLayout();
    const victim = layout.workspaceDir(GUILD_B, 'web');
    writeFileSync(join(victim, 'terraform.tfstate'), '{}');
    symlinkSync(victim, join(layout.guildDir(GUILD_A), 'web'));
    expect(() => layout.workspaceDir(GUILD_A, 'web')).toThrow(PathEscape);
    expect(() => layout.removeWorkspace(GUILD_A, 'web')).toThrow(PathEscape);
    expect(existsSync(join(victim, 'terraform.tfstate'))).toBe(true);
  });

  it('refuses a guild folder that is a symlink, and a dangling link', () => {
    const { root, outside, layout } = makeLayout();
    mkdirSync(root, { recursive: true });
    symlinkSync(outside, join(root, `guild_${GUILD_A}`));
    expect(() => layout.guildDir(GUILD_A)).toThrow(PathEscape);
    expect(() => layout.workspaceDir(GUILD_A, 'web')).toThrow(PathEscape);
    symlinkSync(join(outside, 'missing'), join(layout.guildDir(GUILD_B), 'dangling'));
    expect(() => layout.workspaceDir(GUILD_B, 'dangling')).toThrow(PathEscape);
    expect(existsSync(join(outside, 'missing'))).toBe(false);
  });

  it('refuses a regular file where a folder should be', () => {
    const { layout } = makeLayout();
    writeFileSync(join(layout.guildDir(GUILD_A), 'file'), 'x');
    expect(() => layout.workspaceDir(GUILD_A, 'file')).toThrow(PathEscape);
  });

  it('removes a workspace without following links inside it', () => {
    const { outside, layout } = makeLayout();
    const ws = layout.workspaceDir(GUILD_A, 'web');
    const precious = join(outside, 'precious');
    mkdirSync(precious);
    writeFileSync(join(precious, 'keep.txt'), 'x');
    symlinkSync(precious, join(ws, 'link'));
    expect(layout.removeWorkspace(GUILD_A, 'web')).toBe(true);
    expect(existsSync(ws)).toBe(false);
    expect(existsSync(join(precious, 'keep.txt'))).toBe(true);
    expect(layout.removeWorkspace(GUILD_A, 'web')).toBe(false);
  });
});

describe('state backends', () => {
  const cleanups: Array<() => void> = [];
  afterEach(() => cleanups.splice(0).forEach((cleanup) => cleanup()));

  it('keeps local state in the workspace', () => {
    expect(backendBlock('local', GUILD_A, 'web', { kind: 'local' })).toEqual({ local: { path: 'terraform.tfstate' } });
  });

  it('puts S3 state under the guild, encrypted, with S3-native locking', () => {
    expect(backendBlock('s3', GUILD_A, 'web', { kind: 's3', bucket: 'acme-state', region: 'us-east-1' })).toEqual({
      s3: {
        bucket: 'acme-state',
        key: `terraform-state/${GUILD_A}/web/terraform.tfstate`,
        region: 'us-east-1',
        encrypt: true,
        use_lockfile: true,
      },
    });
  });

  it('configures a custom S3-compatible endpoint with path-style addressing and no AWS-only checks', () => {
    const block = backendBlock('s3', GUILD_A, 'web', {
      kind: 's3',
      bucket: 'state',
      region: 'nyc3',
      endpoint: 'http://127.0.0.1:4568',
    });
    expect(block.s3).toMatchObject({
      endpoints: { s3: 'http://127.0.0.1:4568' },
      use_path_style: true,
      skip_credentials_validation: true,
      skip_requesting_account_id: true,
    });
  });

  it('uses the seed\'s GCS prefix and azurerm key', () => {
    expect(backendBlock('gcs', GUILD_A, 'web', { kind: 'gcs', bucket: 'acme-state' })).toEqual({
      gcs: { bucket: 'acme-state', prefix: `tenants/${GUILD_A}/terraform/state/web` },
    });
    expect(
      backendBlock('azurerm', GUILD_A, 'web', {
        kind: 'azurerm',
        resourceGroupName: 'rg-state',
        storageAccountName: 'acmestate',
        containerName: 'tfstate',
      }),
    ).toEqual({
      azurerm: {
        resource_group_name: 'rg-state',
        storage_account_name: 'acmestate',
        container_name: 'tfstate',
        key: `${GUILD_A}-web-tfstate`,
      },
    });
  });

  it('rejects malformed settings, mismatched kinds, extra (secret) fields, bad guilds and bad slugs', () => {
    const bad: unknown[] = [
      { kind: 's3', bucket: 'x"}\nterraform {', region: 'us-east-1' },
      { kind: 's3', bucket: 'ok-bucket', region: 'us-east-1', access_key: 'AKIA...' },
      { kind: 's3', bucket: 'ok-bucket', region: 'us-east-1', endpoint: 'file:///etc/passwd' },
      { kind: 'gcs', bucket: '../other' },
      { kind: 'azurerm', resourceGroupName: 'rg', storageAccountName: 'Bad_Name', containerName: 'c1c' },
    ];
    for (const settings of bad) {
      const kind = (settings as { kind: 's3' | 'gcs' | 'azurerm' }).kind;
      expect(() => backendBlock(kind, GUILD_A, 'web', settings as never)).toThrow(InvalidBackendSettings);
    }
    expect(() => backendBlock('s3', GUILD_A, 'web', { kind: 'local' })).toThrow(InvalidBackendSettings);
    expect(() => backendBlock('local', '../x', 'web', { kind: 'local' })).toThrow(TypeError);
    expect(() => backendBlock('local', GUILD_A, '../web', { kind: 'local' })).toThrow(TypeError);
  });

  it('writes backend.tf.json as JSON, owner-only, with nothing but the block', () => {
    const { dir, cleanup } = makeTempDir();
    cleanups.push(cleanup);
    const ws = new StateLayout(join(dir, 'deployments')).workspaceDir(GUILD_A, 'web');
    const block = backendBlock('gcs', GUILD_A, 'web', { kind: 'gcs', bucket: 'acme-state' });
    const path = writeBackendFile(ws, block);
    expect(path).toBe(join(ws, 'backend.tf.json'));
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual({ terraform: { backend: block } });
    expect(lstatSync(path).mode & 0o777).toBe(0o600);
    writeBackendFile(ws, backendBlock('local', GUILD_A, 'web', { kind: 'local' }));
    expect(readdirSync(ws)).toEqual(['backend.tf.json']);
  });
});
