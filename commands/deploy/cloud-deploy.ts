import { InteractionContextType, SlashCommandBuilder } from 'discord.js';
import { z } from 'zod';
import type { AppContext } from '../../src/app/context.js';
import { DeployService, type DeployInput } from '../../src/deploy/deploy-service.js';
import type { PolicyDecision } from '../../src/policy/index.js';
import { isUserError } from '../../src/shared/errors.js';
import { defineCommand } from '../../src/interaction/command.js';
import { ttlOptionSchema } from '../../src/ttl/ttl-duration.js';
import { completeCredentials, completeInstanceTypes, completeProjects, completeTemplates } from '../views/autocomplete.js';
import { violationView } from '../views/deploy.js';
import { deployTarget, resourceTypeOption } from '../views/options.js';
import { deployTemplate } from './deploy-template.js';
import { planAndApply } from './plan-and-apply.js';

/** The plan's tier caps the guild's runs at once (never /cloud-destroy: removing resources is always allowed). */
async function requireRunSlot(app: AppContext, guildId: string): Promise<void> {
  const load = await app.runner.loadOf(guildId);
  await app.tiers.requireRunSlot(guildId, load.running + load.queued);
}

/**
 * The policy's refusal, when that is what the member would be told after the deferral: any other refusal (no run
 * slot, an unknown project, no access), which comes first, leaves the answer to the usual path, which meets it again.
 */
async function policyRefusalNow(app: AppContext, deploys: DeployService, input: DeployInput): Promise<PolicyDecision | undefined> {
  try {
    await requireRunSlot(app, input.guildId);
    return await deploys.policyRefusal(input);
  } catch (error) {
    if (isUserError(error)) return undefined;
    throw error;
  }
}

export default defineCommand({
  data: new SlashCommandBuilder()
    .setName('cloud-deploy')
    .setDescription('Deploy a resource or a template: policy check, estimate, plan, then apply when you confirm')
    .setContexts(InteractionContextType.Guild)
    .addStringOption((o) => o.setName('project').setDescription('Project').setRequired(true).setAutocomplete(true).setMaxLength(64))
    .addStringOption((o) => o.setName('template').setDescription('Template to deploy (vm and bucket are built in); its inputs are asked in a form').setAutocomplete(true).setMaxLength(64))
    .addStringOption((o) =>
      o.setName('resource_type').setDescription('A built-in template: what to create').addChoices({ name: 'virtual machine', value: 'vm' }, { name: 'storage bucket', value: 'bucket' }),
    )
    .addStringOption((o) => o.setName('instance_type').setDescription('Machine type (vm)').setAutocomplete(true).setMaxLength(64))
    .addIntegerOption((o) => o.setName('disk_size').setDescription('Disk GB (vm) or expected storage GB (bucket)').setMinValue(1).setMaxValue(65_536))
    .addStringOption((o) =>
      o.setName('credential').setDescription('session, service, or a stored credential (default: the project’s)').setAutocomplete(true).setMaxLength(64),
    )
    .addStringOption((o) => o.setName('ttl').setDescription('Time to live: destroyed after 90m, 4h, 3d… from the apply (none: never)').setMaxLength(32))
    .addBooleanOption((o) => o.setName('all_inputs').setDescription('A template: also ask for the inputs that have defaults (default: keep them)')),
  options: z
    .object({
      project: z.string().trim().min(1).max(64),
      template: z.string().trim().min(1).max(64).optional(),
      resource_type: resourceTypeOption.optional(),
      instance_type: z.string().trim().max(64).optional(),
      disk_size: z.number().int().min(1).max(65_536).optional(),
      credential: z.string().trim().max(64).optional(),
      all_inputs: z.boolean().optional(),
      ttl: ttlOptionSchema.optional(),
    })
    .transform((options, ctx) => ({ ...options, target: deployTarget(options, ctx) })),

  async execute({ conversation, options, app }) {
    const { project, credential, target, ttl } = options;
    if (target.kind === 'template') return deployTemplate(conversation, app, { project, template: target.template, credential, ttl, askOptional: options.all_inputs ?? false });
    const deploys = DeployService.from(app);
    const { guildId, actor: requester } = conversation;
    const input = { guildId, requester, channelId: conversation.channelId, project, credential, resourceType: target.resourceType, instanceType: options.instance_type, diskSizeGb: options.disk_size, ttl };
    // What the policy refuses is known in a millisecond: it is the answer, without a deferral first (one call to
    // Discord instead of two). Everything else is deferred and checked again when acted on, as before.
    const refusal = await policyRefusalNow(app, deploys, input);
    if (refusal) return conversation.reply(violationView(refusal));
    await conversation.defer();
    await requireRunSlot(app, guildId);
    const prepared = await deploys.prepare(input);
    if (!prepared.allowed) return conversation.edit(violationView(prepared.decision));
    await planAndApply(conversation, deploys, prepared.deployment);
  },

  async autocomplete(request, app) {
    if (request.focused.name === 'project') return completeProjects(app, request);
    if (request.focused.name === 'template') return completeTemplates(app, request);
    if (request.focused.name === 'instance_type') return completeInstanceTypes(app, request);
    return completeCredentials(app, request);
  },
});
