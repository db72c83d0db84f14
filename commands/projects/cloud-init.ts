import { InteractionContextType, SlashCommandBuilder } from 'discord.js';
import { z } from 'zod';
import { parseProviderSecrets, toSecretRecord } from '../../src/credentials/secrets.js';
import { SensitiveInputs } from '../../src/deploy/sensitive-inputs.js';
import { assertStateEndpointSafe, stateBackendSettings, stateSecrets, verifyStateBackend } from '../../src/deploy/state-backend.js';
import { defineCommand } from '../../src/interaction/command.js';
import { namesSameProject, ProjectNameTakenBySimilar } from '../../src/projects/errors.js';
import { requireProjectControl, requireStateCredentialUse } from '../../src/projects/project-control.js';
import { endpointSchema } from '../../src/shared/endpoint.js';
import { normaliseRegion, regionProblem } from '../../src/projects/regions.js';
import { UserError } from '../../src/shared/errors.js';
import { StateLayout } from '../../src/state/layout.js';
import { completeStoredCredentials } from '../views/credentials.js';
import { escapeMarkdown } from '../views/format.js';
import { initialisedView } from '../views/init.js';
import { PROVIDER_CHOICES, providerOption } from '../views/options.js';
import { findProject, projectNameOption, regionOption, stateBackendOption, STATE_BACKEND_CHOICES } from '../views/projects.js';
import { FORM_TIMEOUT_MS, secretForm } from '../views/secret-form.js';
import { withArticle } from '../../src/shared/article.js';

export default defineCommand({
  data: new SlashCommandBuilder()
    .setName('cloud-init')
    .setDescription('Start a cloud project (or renew its vault session); secrets are typed into a private form')
    .setContexts(InteractionContextType.Guild)
    .addStringOption((o) => o.setName('provider').setDescription('Cloud provider').setRequired(true).addChoices(...PROVIDER_CHOICES))
    .addStringOption((o) => o.setName('project_name').setDescription('A name for this project in this server').setRequired(true).setMaxLength(64))
    .addStringOption((o) => o.setName('region').setDescription('e.g. us-central1, eu-west-1, westeurope').setRequired(true).setMaxLength(32))
    .addStringOption((o) =>
      o.setName('credential').setDescription('Use a stored credential instead of typing secrets').setAutocomplete(true).setMaxLength(64),
    )
    .addStringOption((o) => o.setName('state_backend').setDescription('Where Terraform state lives (default: local)').addChoices(...STATE_BACKEND_CHOICES))
    .addStringOption((o) => o.setName('state_bucket').setDescription('Bucket (s3, gcs) or storage account (azurerm) for state').setMaxLength(63))
    .addStringOption((o) => o.setName('state_endpoint').setDescription('S3-compatible endpoint for an AWS project’s s3 state').setMaxLength(300))
    .addStringOption((o) =>
      o.setName('state_credential').setDescription('Stored s3/aws credential for s3 state of a GCP or Azure project').setAutocomplete(true).setMaxLength(64),
    ),
  options: z.object({
    provider: providerOption,
    project_name: projectNameOption,
    region: regionOption,
    credential: z.string().max(64).optional(),
    state_backend: stateBackendOption.default('local'),
    state_bucket: z.string().max(63).optional(),
    state_endpoint: endpointSchema.optional(),
    state_credential: z.string().max(64).optional(),
  })
    // Each provider has its own region names: refused here, with the options, not after the secret form.
    .superRefine((options, ctx) => {
      const problem = regionProblem(options.provider, options.region);
      if (problem !== undefined) ctx.addIssue({ code: 'custom', path: ['region'], message: problem });
    })
    // From here on the region is the provider's own form: Azure's "East US" is "eastus" for the backend and the engine.
    .transform((options) => ({ ...options, region: normaliseRegion(options.provider, options.region) })),

  async execute({ conversation, options, app }) {
    const { guildId, actor } = conversation;
    await app.jit.require({ guildId, userId: actor.id, provider: options.provider, isGuildAdmin: actor.isGuildAdmin, needed: 'deployer' });
    const slug = StateLayout.slugify(options.project_name);
    const existing = await findProject(app, guildId, options.project_name);
    // Found by its slug: "Café" finds "Cafe". Only the name as spelled renews it, so nobody renews another by accident.
    if (existing && !namesSameProject(options.project_name, existing.name)) throw new ProjectNameTakenBySimilar(options.project_name, existing);
    if (existing && existing.provider !== options.provider) {
      throw new UserError(
        'project.provider_mismatch',
        `Project **${escapeMarkdown(existing.name)}** already exists here for ${existing.provider}. Pick another name for ${withArticle(options.provider)} project.`,
      );
    }
    // Renewing replaces the owner's vault session with the caller's keys: the owner's or an admin's call.
    if (existing) {
      await requireProjectControl(app, { guildId, member: actor, project: existing, action: 'vault.renew', doing: 'renew its vault session or credentials' });
    }
    // Everything that can be refused is refused before the form, so nobody types a secret for nothing.
    const backendSettings = await stateBackendSettings(app, {
      guildId,
      provider: options.provider,
      kind: options.state_backend,
      bucket: options.state_bucket,
      region: options.region,
      endpoint: options.state_endpoint,
      stateCredential: options.state_credential,
    });
    await requireStateCredentialUse(app, { guildId, member: actor, projectName: options.project_name, projectProvider: options.provider, settings: backendSettings, existing });
    await assertStateEndpointSafe(backendSettings);
    const stored = options.credential ? await app.credentials.requireFor(guildId, options.credential, [options.provider]) : undefined;
    const newProject = { guildId, name: options.project_name, provider: options.provider, region: options.region, stateBackend: options.state_backend, backendSettings, createdBy: actor.id };

    if (stored) {
      await conversation.defer({ ephemeral: true });
      const secrets = (await app.credentials.reveal(guildId, stored.name)).secrets;
      await verifyStateBackend({ guildId, projectSlug: slug, settings: backendSettings, secrets: await stateSecrets(app, guildId, backendSettings, secrets) });
      const project = existing ?? await app.projects.create({ ...newProject, credentialSource: 'stored', credentialId: stored.id });
      app.layout.workspaceDir(guildId, project.slug);
      app.audit.record({ guildId, userId: actor.id, action: 'project.init', target: project.name, outcome: 'success', details: { credentialName: stored.name } });
      await conversation.edit(initialisedView({ project, policy: await app.policies.get(guildId), credentialName: stored.name }));
      return;
    }

    const answer = await conversation.askModal(secretForm(options.provider, `Secrets for ${options.project_name}`), FORM_TIMEOUT_MS);
    if (!answer) return;
    const secrets = toSecretRecord(parseProviderSecrets(options.provider, answer.values));
    // The state bucket check is a network call: acknowledge the form first.
    await conversation.defer({ ephemeral: true });
    await verifyStateBackend({ guildId, projectSlug: slug, settings: backendSettings, secrets: await stateSecrets(app, guildId, backendSettings, secrets) });
    // Template deployments' secret inputs kept in the session being replaced stay with the project.
    const carried = existing ? await new SensitiveInputs(app).carriedOver(existing) : {};
    const session = app.vault.open(guildId, actor.id, { ...secrets, ...carried });
    try {
      const project = existing
        ? await app.projects.setVaultSession(guildId, existing.id, session.sessionId)
        : await app.projects.create({ ...newProject, vaultSessionId: session.sessionId, credentialSource: 'ephemeral' });
      // A renewed project keeps one live session: the one it replaced is wiped now, not at its expiry.
      if (existing?.vaultSessionId) app.vault.close(guildId, existing.vaultSessionId);
      app.layout.workspaceDir(guildId, project.slug);
      app.audit.record({
        guildId,
        userId: actor.id,
        action: existing ? 'vault.renew' : 'project.init',
        target: project.name,
        outcome: 'success',
        details: { vaultSession: session.sessionId },
      });
      await conversation.edit(initialisedView({ project, policy: await app.policies.get(guildId), session, ttlMinutes: app.config.VAULT_TTL_MINUTES }));
    } catch (error) {
      // Nothing half-done: a project that could not be saved leaves no secret behind.
      app.vault.close(guildId, session.sessionId);
      throw error;
    }
  },

  async autocomplete(request, app) {
    if (request.focused.name === 'state_credential') return completeStoredCredentials(app, request, ['s3', 'aws']);
    const provider = providerOption.safeParse(request.options.provider);
    return completeStoredCredentials(app, request, provider.success ? [provider.data] : undefined);
  },
});
