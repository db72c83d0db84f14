import { InteractionContextType, PermissionFlagsBits, SlashCommandBuilder } from 'discord.js';
import { z } from 'zod';
import { credentialNameSchema, parseCredentialLocation, parseField } from '../../src/credentials/details.js';
import { CredentialNameTaken, CredentialNotFound, MasterKeyMissing } from '../../src/credentials/errors.js';
import { validateCredential } from '../../src/credentials/validate.js';
import { CREDENTIAL_PROVIDERS } from '../../src/db/schema.js';
import { defineCommand } from '../../src/interaction/command.js';
import { UserError } from '../../src/shared/errors.js';
import { assertEndpointResolvesSafely } from '../../src/shared/endpoint.js';
import {
  CREDENTIAL_PROVIDER_CHOICES,
  completeStoredCredentials,
  credentialDetailView,
  credentialListView,
  credentialStoredView,
  credentialUpdatedView,
  credentialValidationView,
  rotationView,
} from '../views/credentials.js';
import { FORM_TIMEOUT_MS, secretForm } from '../views/secret-form.js';
import { escapeMarkdown } from '../views/format.js';

/** Discord refuses a modal whose title is longer. */
const MODAL_TITLE_MAX = 45;
const nameOption = z.string().trim().min(1).max(64);
const provider = z.enum(CREDENTIAL_PROVIDERS, { error: `choose one of ${CREDENTIAL_PROVIDERS.join(', ')}` });

export default defineCommand({
  data: new SlashCommandBuilder()
    .setName('cloud-credentials')
    .setDescription('Stored cloud credentials of this server, encrypted at rest (admin)')
    .setDefaultMemberPermissions(PermissionFlagsBits.ManageGuild)
    .setContexts(InteractionContextType.Guild)
    .addSubcommand((s) =>
      s
        .setName('add')
        .setDescription('Store a credential; the secret is typed into a private form')
        .addStringOption((o) => o.setName('name').setDescription('A name for it in this server, e.g. prod-aws').setRequired(true).setMaxLength(64))
        .addStringOption((o) =>
          o.setName('provider').setDescription('Cloud provider').setRequired(true).addChoices(...CREDENTIAL_PROVIDER_CHOICES),
        )
        .addStringOption((o) => o.setName('region').setDescription('e.g. us-east-1, nyc3, auto').setMaxLength(32))
        .addStringOption((o) =>
          o.setName('endpoint').setDescription('S3-compatible endpoint, e.g. https://nyc3.digitaloceanspaces.com').setMaxLength(200),
        )
        .addBooleanOption((o) => o.setName('make_default').setDescription('Make it this server’s default for the provider')),
    )
    .addSubcommand((s) => s.setName('list').setDescription('Stored credentials: names, providers, defaults, last use (never secrets)'))
    .addSubcommand((s) =>
      s
        .setName('get')
        .setDescription('One credential’s details and the projects using it (never the secret)')
        .addStringOption((o) => o.setName('name').setDescription('Credential').setRequired(true).setAutocomplete(true).setMaxLength(64)),
    )
    .addSubcommand((s) =>
      s
        .setName('update')
        .setDescription('Replace a credential’s secret (private form), region or endpoint; the old secret is erased')
        .addStringOption((o) => o.setName('name').setDescription('Credential').setRequired(true).setAutocomplete(true).setMaxLength(64))
        .addStringOption((o) => o.setName('region').setDescription('New region, e.g. us-east-1, nyc3, auto').setMaxLength(32))
        .addStringOption((o) => o.setName('endpoint').setDescription('New S3-compatible endpoint').setMaxLength(200))
        .addBooleanOption((o) =>
          o.setName('new_secret').setDescription('Type a new secret in a private form (default yes; no: change only region/endpoint)'),
        ),
    )
    .addSubcommand((s) =>
      s
        .setName('remove')
        .setDescription('Remove a credential; it is unusable at once and its secret is erased')
        .addStringOption((o) => o.setName('name').setDescription('Credential').setRequired(true).setAutocomplete(true).setMaxLength(64)),
    )
    .addSubcommand((s) =>
      s
        .setName('default')
        .setDescription('Make a credential the default for its provider')
        .addStringOption((o) => o.setName('name').setDescription('Credential').setRequired(true).setAutocomplete(true).setMaxLength(64)),
    )
    .addSubcommand((s) =>
      s
        .setName('validate')
        .setDescription('Check a credential with a real signed request to the provider')
        .addStringOption((o) => o.setName('name').setDescription('Credential').setRequired(true).setAutocomplete(true).setMaxLength(64))
        .addStringOption((o) => o.setName('bucket').setDescription('Check this bucket instead (for keys limited to one bucket)').setMaxLength(63)),
    )
    .addSubcommand((s) =>
      s.setName('rotate').setDescription('Re-encrypt this server’s stored credentials under the current master key'),
    ),
  options: z.discriminatedUnion('subcommand', [
    z.object({
      subcommand: z.literal('add'),
      name: nameOption,
      provider,
      region: z.string().max(32).optional(),
      endpoint: z.string().max(200).optional(),
      make_default: z.boolean().default(false),
    }),
    z.object({ subcommand: z.literal('list') }),
    z.object({ subcommand: z.literal('get'), name: nameOption }),
    z.object({
      subcommand: z.literal('update'),
      name: nameOption,
      region: z.string().max(32).optional(),
      endpoint: z.string().max(200).optional(),
      new_secret: z.boolean().default(true),
    }),
    z.object({ subcommand: z.literal('remove'), name: nameOption }),
    z.object({ subcommand: z.literal('default'), name: nameOption }),
    z.object({ subcommand: z.literal('validate'), name: nameOption, bucket: z.string().trim().min(1).max(63).optional() }),
    z.object({ subcommand: z.literal('rotate') }),
  ]),
  adminOnly: true,

  async execute({ conversation, options, app }) {
    const { guildId, actor } = conversation;
    const audit = (action: string, target: string | undefined, outcome: 'success' | 'failed', details?: Record<string, unknown>) =>
      app.audit.record({ guildId, userId: actor.id, action, target, outcome, details });

    switch (options.subcommand) {
      case 'add': {
        // Refuse before the form: nobody should type a secret that cannot be stored.
        if (app.config.CREDENTIALS_MASTER_KEY === undefined) throw new MasterKeyMissing();
        // A cached read on SQLite (tier-repository.ts): quick enough before the form, which must be the first answer.
        await app.tiers.requireStoredCredentials(guildId);
        // Everything but the secret is checked now, and again inside create(): this only spares a form typed in vain.
        const name = parseField(credentialNameSchema, 'name', options.name);
        const location = parseCredentialLocation(options.provider, options.region, options.endpoint);
        if (location.endpoint !== null) await assertEndpointResolvesSafely(location.endpoint);
        if ((await app.credentials.find(guildId, name)) !== undefined) throw new CredentialNameTaken(name);
        const answer = await conversation.askModal(secretForm(options.provider, `Secrets for ${name}`.slice(0, MODAL_TITLE_MAX)), FORM_TIMEOUT_MS);
        if (!answer) return;
        const stored = await app.credentials.create({
          guildId,
          name,
          provider: options.provider,
          region: options.region ?? null,
          endpoint: options.endpoint ?? null,
          secrets: answer.values,
          createdBy: actor.id,
          makeDefault: options.make_default,
        });
        audit('credentials.add', stored.name, 'success', { provider: stored.provider, isDefault: stored.isDefault });
        await conversation.reply(credentialStoredView(stored));
        return;
      }
      case 'list':
        await conversation.reply(credentialListView(await app.credentials.list(guildId)));
        return;
      case 'get': {
        const credential = await app.credentials.find(guildId, options.name);
        if (credential === undefined) throw new CredentialNotFound(options.name);
        const using = (await app.projects.list(guildId)).filter((project) => project.credentialId === credential.id).map((project) => project.name);
        await conversation.reply(credentialDetailView(credential, using));
        return;
      }
      case 'update': {
        const changed = [options.new_secret ? 'secret' : undefined, options.region === undefined ? undefined : 'region', options.endpoint === undefined ? undefined : 'endpoint'].filter(
          (what): what is string => what !== undefined,
        );
        if (changed.length === 0) {
          throw new UserError('credentials.nothing_to_update', 'Nothing to update: give a new region or endpoint, or leave new_secret on to type a new secret.');
        }
        if (app.config.CREDENTIALS_MASTER_KEY === undefined) throw new MasterKeyMissing();
        // Everything but the secret is checked before the form, as for add: nobody types a secret that is then refused.
        const current = await app.credentials.find(guildId, options.name);
        if (current === undefined) throw new CredentialNotFound(options.name);
        const location = parseCredentialLocation(current.provider, options.region ?? current.region, options.endpoint ?? current.endpoint);
        if (options.endpoint !== undefined && location.endpoint !== null) await assertEndpointResolvesSafely(location.endpoint);
        let secrets: Record<string, string> | undefined;
        if (options.new_secret) {
          const answer = await conversation.askModal(secretForm(current.provider, `New secrets for ${current.name}`.slice(0, MODAL_TITLE_MAX)), FORM_TIMEOUT_MS);
          if (!answer) return;
          secrets = answer.values;
        }
        // Checked again inside update(): the credential may have been removed while the form was open.
        const updated = await app.credentials.update(guildId, current.name, { secrets, region: options.region, endpoint: options.endpoint });
        audit('credentials.update', updated.name, 'success', { provider: updated.provider, changed });
        await conversation.reply(credentialUpdatedView(updated, changed));
        return;
      }
      case 'remove': {
        const removed = await app.credentials.remove(guildId, options.name);
        audit('credentials.remove', removed.name, 'success', { provider: removed.provider });
        await conversation.reply({
          ephemeral: true,
          content: `🗑️ Credential **${escapeMarkdown(removed.name)}** removed: it can no longer be used and its encrypted secret is erased.`,
        });
        return;
      }
      case 'default': {
        const chosen = await app.credentials.setDefault(guildId, options.name);
        audit('credentials.default', chosen.name, 'success', { provider: chosen.provider });
        await conversation.reply({
          ephemeral: true,
          content: `⭐ **${escapeMarkdown(chosen.name)}** is now this server’s default ${chosen.provider} credential.`,
        });
        return;
      }
      case 'validate': {
        // A network call: acknowledge first so Discord's three seconds cannot run out.
        await conversation.defer({ ephemeral: true });
        const { metadata, secrets } = await app.credentials.reveal(guildId, options.name);
        const result = await validateCredential(metadata, secrets, { bucket: options.bucket });
        audit('credentials.validate', metadata.name, result.ok ? 'success' : 'failed', result.ok ? ('offline' in result ? { offline: true } : undefined) : { code: result.code });
        await conversation.edit(credentialValidationView(metadata, result, options.bucket));
        return;
      }
      case 'rotate': {
        // Only this guild's rows: one tenant's admin never touches another tenant's data (operators: npm run credentials:rotate).
        const report = await app.credentials.rotate(guildId);
        for (const row of report.unreadable) {
          app.logger.warn({ guildId: row.guildId, credentialName: row.name, masterKeyId: row.masterKeyId }, 'stored credential unreadable during rotation');
        }
        audit('credentials.rotate', undefined, report.unreadable.length === 0 ? 'success' : 'failed', {
          reencrypted: report.reencrypted,
          unreadable: report.unreadable.length,
        });
        await conversation.reply(rotationView(report, guildId));
        return;
      }
    }
  },

  async autocomplete(request, app) {
    return completeStoredCredentials(app, request);
  },
});
