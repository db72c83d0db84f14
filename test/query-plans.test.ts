/**
 * Every query the bot issues for the commands members run most, planned by SQLite: none may read a whole table that
 * grows with a guild's data (projects, resources, runs, audit entries, grants, credentials). The SQL is not listed by
 * hand: the real bot runs the commands against a real migrated file, and every statement it executes is captured
 * (test/support/query-plans.ts), so a new query, or a changed one, is checked without anyone remembering to add it.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Actor } from '../src/interaction/conversation.js';
import { HARNESS_GUILD, startAppHarness } from './support/app-harness.js';
import { FAKE_ENGINE_BIN } from './support/bot-process.js';
import {
  captureStatements,
  describeProblems,
  isQuery,
  planProblems,
  queryPlan,
  type ExecutedStatement,
  type StatementCapture,
} from './support/query-plans.js';

const alice: Actor = { id: '300000000000000001', displayName: 'alice', isBot: false, isGuildAdmin: false };
const admin: Actor = { id: '300000000000000003', displayName: 'carol', isBot: false, isGuildAdmin: true };
const aliceOption = { id: alice.id, displayName: 'alice', isBot: false };

describe('query plans of the hot paths', () => {
  let capture: StatementCapture;
  let harness: Awaited<ReturnType<typeof startAppHarness>>;

  beforeAll(async () => {
    capture = captureStatements();
    harness = await startAppHarness({ IAC_BIN_DIR: FAKE_ENGINE_BIN, CREDENTIALS_MASTER_KEY: randomBytes(32).toString('base64') });
    const { say } = harness;
    const step = async (name: string, work: () => Promise<unknown>) => {
      capture.step(name);
      const result = await work();
      if (result && typeof result === 'object' && 'text' in result && typeof result.text === 'function') console.log(name, '→', String(result.text()).slice(0, 300));
    };
    await step('jit grant', () => say(admin, 'cloud-jit-grant', { user: aliceOption, provider: 'gcp', level: 'deployer', duration: 60 }));
    await step('init', () =>
      say(alice, 'cloud-init', { provider: 'gcp', project_name: 'web', region: 'us-central1' }, HARNESS_GUILD, { modal: { project_id: 'web-project-123' } }),
    );
    await step('deploy (plan, policy check, apply)', () =>
      say(alice, 'cloud-deploy', { project: 'web', resource_type: 'vm', instance_type: 'e2-micro', disk_size: 10 }, HARNESS_GUILD, {
        buttons: [{ buttonId: 'apply', by: alice }],
      }),
    );
    await step('policy update', () => say(admin, 'cloud-guild-policy', { action: 'update', max_instances: 1 }));
    await step('deploy refused by policy', () =>
      say(alice, 'cloud-deploy', { project: 'web', resource_type: 'vm', instance_type: 'e2-micro', disk_size: 10 }),
    );
    await step('policy view', () => say(alice, 'cloud-guild-policy', { action: 'view' }));
    await step('projects', () => say(alice, 'cloud-projects'));
    await step('runs list', () => say(alice, 'cloud-runs', { subcommand: 'list' }));
    await step('runs cancel', () => say(alice, 'cloud-runs', { subcommand: 'cancel', run: 1 }));
    await step('audit', () => say(admin, 'cloud-audit'));
    await step('audit by member', () => say(admin, 'cloud-audit', { user: aliceOption }));
    await step('audit by action', () => say(admin, 'cloud-audit', { action: 'iac.apply' }));
    await step('jit list', () => say(admin, 'cloud-jit-list'));
    await step('jit list (own)', () => say(alice, 'cloud-jit-list'));
    await step('credentials add', () =>
      say(admin, 'cloud-credentials', { subcommand: 'add', name: 'prod', provider: 'aws', region: 'eu-west-1' }, HARNESS_GUILD, {
        modal: { access_key_id: 'AKIAIOSFODNN7EXAMPLE', secret_access_key: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY' },
      }),
    );
    await step('credentials list', () => say(admin, 'cloud-credentials', { subcommand: 'list' }));
    await step('credentials get', () => say(admin, 'cloud-credentials', { subcommand: 'get', name: 'prod' }));
    await step('vault list', () => say(alice, 'cloud-vault', { subcommand: 'list' }));
    await step('autocomplete project', () =>
      harness.dispatcher.complete({ guildId: HARNESS_GUILD, actor: alice, commandName: 'cloud-deploy', focused: { name: 'project', value: 'w' }, options: {} }),
    );
    await step('destroy', () => say(alice, 'cloud-destroy', { project: 'web' }, HARNESS_GUILD, { buttons: [{ buttonId: 'destroy', by: alice }] }));
    await step('jit revoke', () => say(admin, 'cloud-jit-revoke', { user: aliceOption }));
    await step('janitor tick', async () => {
      await say(admin, 'cloud-jit-grant', { user: aliceOption, provider: 'aws', level: 'viewer', duration: 5 });
      harness.clock.advanceMinutes(10);
      await harness.core.janitor.tick();
    });
    capture.stop();
  }, 60_000);
  afterAll(async () => {
    capture?.stop();
    await harness?.stop();
  });

  it('runs every step (the scenario itself worked)', () => {
    for (const [name, statements] of capture.steps) {
      expect([...statements.keys()].filter(isQuery).length, name).toBeGreaterThan(0);
    }
  });

  it('prints the plans', () => {
    for (const [name, statements] of capture.steps) {
      console.log(`## ${name}`);
      for (const s of statements.values()) {
        if (!isQuery(s.sql) || s.database !== harness.core.database.sqlite.name) continue;
        console.log(`  ${s.sql}\n     ${queryPlan(harness.core.database.sqlite, s).join(' | ')}`);
      }
    }
  });

  it('reads no growing table in full', () => {
    const problems = planProblems(harness.core.database.sqlite, capture.all(harness.core.database.sqlite.name));
    expect(problems, describeProblems(problems)).toEqual([]);
  });
});

export type { ExecutedStatement };
