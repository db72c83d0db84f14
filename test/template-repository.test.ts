/**
 * The template repository on both dialects (issue 16): the operator's catalogue as start-ups record it, enablement
 * and a guild's own git templates, each read scoped to its guild, on real databases with their migrations. Two
 * processes writing at once (shards starting together, two admins adding one name) are raced on one database.
 */
import { expect, it } from 'vitest';
import { UnitOfWork } from '../src/db/data-access.js';
import { TemplateNameTaken } from '../src/templates/errors.js';
import { templateRepositoryFor, type NewGitTemplate, type PinnedFiles, type TemplateRepository } from '../src/templates/template-repository.js';
import type { TemplateVariable } from '../src/templates/template.js';
import { FakeClock } from './support/clock.js';
import { describeOnBothDialects, type DialectUnderTest } from './support/dialects.js';

const GUILD = '111111111111111111';
const OTHER_GUILD = '999999999999999999';
const ADMIN = '222222222222222222';

const variable: TemplateVariable = { name: 'region', type: 'string', hasDefault: true, defaultValue: 'eu', sensitive: false, nullable: true };
const pinned = (revision: string, variables: TemplateVariable[] = []): PinnedFiles => ({ pinnedRevision: revision, filesDigest: `digest-${revision}`, variables });
const gitTemplate = (overrides: Partial<NewGitTemplate> = {}): NewGitTemplate => ({
  guildId: GUILD,
  name: 'web',
  gitUrl: 'https://git.example/web.git',
  gitSubdir: '',
  gitRef: 'main',
  createdBy: ADMIN,
  ...pinned('a'.repeat(40), [variable]),
  ...overrides,
});

describeOnBothDialects('the template repository', (open) => {
  async function setup(): Promise<{ db: DialectUnderTest; clock: FakeClock; templates: TemplateRepository }> {
    const db = await open();
    if (db.dialect === 'postgres') await db.rows('TRUNCATE templates, guild_template_enablements RESTART IDENTITY CASCADE');
    const clock = new FakeClock(1_780_000_000_000);
    return { db, clock, templates: templateRepositoryFor(db.data.session, clock) };
  }

  it('records the operator folder a start-up read: new, unchanged, changed, gone, and back', async () => {
    const { clock, templates } = await setup();
    const first = await templates.upsertOperator('site', pinned('sha256:1', [variable]));
    expect(first.previousRevision).toBeUndefined();
    expect(first.template).toMatchObject({ guildId: null, name: 'site', source: 'operator', pinnedRevision: 'sha256:1', filesDigest: 'digest-sha256:1', variables: [variable], createdBy: 'system' });
    expect(typeof first.template.createdAt).toBe('number');

    clock.advanceMinutes(1);
    const same = await templates.upsertOperator('site', pinned('sha256:1', [variable]));
    expect(same).toEqual({ template: first.template, previousRevision: 'sha256:1' });
    const changed = await templates.upsertOperator('site', pinned('sha256:2'));
    expect(changed.previousRevision).toBe('sha256:1');
    expect(changed.template).toMatchObject({ id: first.template.id, pinnedRevision: 'sha256:2', variables: [], updatedAt: clock.now() });

    await templates.upsertOperator('api', pinned('sha256:3'));
    expect(await templates.markOperatorMissing(['api'])).toEqual(['site']);
    expect(await templates.findOperator('site')).toBeUndefined();
    expect((await templates.operatorTemplates()).map((t) => t.name)).toEqual(['api']);
    expect(await templates.markOperatorMissing([])).toEqual(['api']);
    expect(await templates.operatorTemplates()).toEqual([]);
    // The folder is back: the same row, shown again.
    const back = await templates.upsertOperator('site', pinned('sha256:2'));
    expect(back.template.id).toBe(first.template.id);
    expect(await templates.findOperator('site')).toMatchObject({ id: first.template.id });
  });

  it('orders names bytewise, as SQLite does, on either dialect', async () => {
    const { templates } = await setup();
    for (const name of ['web2', 'web-b', 'web', 'web-a2', 'webb']) await templates.upsertOperator(name, pinned(name));
    expect((await templates.operatorTemplates()).map((t) => t.name)).toEqual(['web', 'web-a2', 'web-b', 'web2', 'webb']);
    for (const name of ['web2', 'web-b', 'web']) await templates.insertGit(gitTemplate({ name }));
    expect((await templates.guildTemplates(GUILD)).map((t) => t.name)).toEqual(['web', 'web-b', 'web2']);
  });

  it('enables an operator template for one guild only; enabling twice or disabling what is not enabled changes nothing', async () => {
    const { templates } = await setup();
    const { template: site } = await templates.upsertOperator('site', pinned('sha256:1'));
    const { template: api } = await templates.upsertOperator('api', pinned('sha256:2'));
    expect(await templates.enable(GUILD, site.id, ADMIN)).toBe(true);
    expect(await templates.enable(GUILD, site.id, ADMIN)).toBe(false);
    expect(await templates.enable(GUILD, api.id, ADMIN)).toBe(true);
    expect((await templates.enabledFor(GUILD)).map((t) => t.name)).toEqual(['api', 'site']);
    expect(await templates.isEnabled(GUILD, site.id)).toBe(true);
    expect(await templates.enabledFor(OTHER_GUILD)).toEqual([]);
    expect(await templates.isEnabled(OTHER_GUILD, site.id)).toBe(false);
    expect(await templates.disable(OTHER_GUILD, site.id)).toBe(false);
    // A template whose folder went is not offered, but its enablement waits for the folder to come back.
    await templates.markOperatorMissing(['api']);
    expect((await templates.enabledFor(GUILD)).map((t) => t.name)).toEqual(['api']);
    await templates.upsertOperator('site', pinned('sha256:1'));
    expect((await templates.enabledFor(GUILD)).map((t) => t.name)).toEqual(['api', 'site']);
    expect(await templates.disable(GUILD, site.id)).toBe(true);
    expect(await templates.disable(GUILD, site.id)).toBe(false);
    expect((await templates.enabledFor(GUILD)).map((t) => t.name)).toEqual(['api']);
    await expect(templates.enabledFor('not-a-guild')).rejects.toThrow();
  });

  it('keeps a guild’s git templates to that guild: another guild can neither read, re-pin nor remove them', async () => {
    const { clock, templates } = await setup();
    const web = await templates.insertGit(gitTemplate({ description: 'the web tier' }));
    expect(web).toMatchObject({ guildId: GUILD, name: 'web', source: 'git', description: 'the web tier', gitUrl: 'https://git.example/web.git', gitSubdir: '', gitRef: 'main', pinnedRevision: 'a'.repeat(40), variables: [variable], createdBy: ADMIN });
    const theirs = await templates.insertGit(gitTemplate({ guildId: OTHER_GUILD }));
    expect(theirs.id).not.toBe(web.id);
    await expect(templates.insertGit(gitTemplate({ gitRef: 'v2' }))).rejects.toThrow(TemplateNameTaken);
    // An operator template of the same name is another row: the names are unique per guild.
    await templates.upsertOperator('web', pinned('sha256:1'));

    expect(await templates.findGuildTemplate(GUILD, 'web')).toEqual(web);
    expect((await templates.guildTemplates(OTHER_GUILD)).map((t) => t.id)).toEqual([theirs.id]);
    expect(await templates.repin(OTHER_GUILD, web.id, { ...pinned('b'.repeat(40)), gitRef: 'v2' }, ADMIN)).toBeUndefined();
    expect(await templates.removeGuildTemplate(OTHER_GUILD, web.id)).toBe(false);
    expect(await templates.findGuildTemplate(GUILD, 'web')).toEqual(web);

    clock.advanceMinutes(5);
    const repinned = await templates.repin(GUILD, web.id, { ...pinned('b'.repeat(40)), gitRef: 'v2' }, ADMIN);
    expect(repinned).toMatchObject({ id: web.id, gitRef: 'v2', pinnedRevision: 'b'.repeat(40), variables: [], createdAt: web.createdAt, updatedAt: clock.now() });
    expect(await templates.removeGuildTemplate(GUILD, web.id)).toBe(true);
    expect(await templates.removeGuildTemplate(GUILD, web.id)).toBe(false);
    expect(await templates.repin(GUILD, web.id, { ...pinned('c'.repeat(40)), gitRef: 'v3' }, ADMIN)).toBeUndefined();
    expect(await templates.guildTemplates(GUILD)).toEqual([]);
    expect(await templates.findGuildTemplate(OTHER_GUILD, 'web')).toEqual(theirs);
  });

  it('rolls a new template back with the unit of work it was inserted in (its files could not be stored)', async () => {
    const { db, clock } = await setup();
    const units = new UnitOfWork(db.data, (session) => templateRepositoryFor(session, clock));
    const failed = units.transaction(async (templates) => {
      await templates.insertGit(gitTemplate());
      throw new Error('the store is full');
    });
    await expect(failed).rejects.toThrow('the store is full');
    expect(await units.outside.guildTemplates(GUILD)).toEqual([]);
  });

  it('two processes recording the same operator folder at once both succeed, on one row', async () => {
    const { db, clock, templates } = await setup();
    const other = templateRepositoryFor((await db.another()).session, clock);
    const [a, b] = await Promise.all([templates.upsertOperator('site', pinned('sha256:1')), other.upsertOperator('site', pinned('sha256:1'))]);
    expect(a.template.id).toBe(b.template.id);
    expect(await templates.operatorTemplates()).toHaveLength(1);
  });

  it('of two processes adding one name to a guild at once, one gets the name and the other TemplateNameTaken', async () => {
    const { db, clock, templates } = await setup();
    const other = templateRepositoryFor((await db.another()).session, clock);
    const outcomes = await Promise.allSettled([templates.insertGit(gitTemplate()), other.insertGit(gitTemplate({ gitRef: 'v2' }))]);
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    const refused = outcomes.find((o) => o.status === 'rejected');
    expect(refused?.reason).toBeInstanceOf(TemplateNameTaken);
    expect(await templates.guildTemplates(GUILD)).toHaveLength(1);
  });
});
