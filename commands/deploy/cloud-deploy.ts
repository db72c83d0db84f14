import { InteractionContextType, SlashCommandBuilder } from 'discord.js';
import { z } from 'zod';
import { DeployService } from '../../src/deploy/deploy-service.js';
import { defineCommand } from '../../src/interaction/command.js';
import { askAdminApproval, notApprovedView } from '../views/approval.js';
import { completeCredentials, completeInstanceTypes, completeProjects } from '../views/autocomplete.js';
import { violationView } from '../views/deploy.js';
import { applyOutcomeView, applyProgress, notAppliedView, offerApply, planFailedView, planProgress, planRefusedByPolicyView } from '../views/deploy-steps.js';
import { resourceTypeOption } from '../views/options.js';
import { deliverResult } from '../views/run-progress.js';

export default defineCommand({
  data: new SlashCommandBuilder()
    .setName('cloud-deploy')
    .setDescription('Deploy a resource: policy check, estimate, plan, then apply when you confirm')
    .setContexts(InteractionContextType.Guild)
    .addStringOption((o) => o.setName('project').setDescription('Project').setRequired(true).setAutocomplete(true).setMaxLength(64))
    .addStringOption((o) =>
      o
        .setName('resource_type')
        .setDescription('What to create')
        .setRequired(true)
        .addChoices({ name: 'virtual machine', value: 'vm' }, { name: 'storage bucket', value: 'bucket' }),
    )
    .addStringOption((o) => o.setName('instance_type').setDescription('Machine type (vm)').setAutocomplete(true).setMaxLength(64))
    .addIntegerOption((o) => o.setName('disk_size').setDescription('Disk GB (vm) or expected storage GB (bucket)').setMinValue(1).setMaxValue(65_536))
    .addStringOption((o) =>
      o.setName('credential').setDescription('session, service, or a stored credential (default: the project’s)').setAutocomplete(true).setMaxLength(64),
    ),
  options: z.object({
    project: z.string().trim().min(1).max(64),
    resource_type: resourceTypeOption,
    instance_type: z.string().trim().max(64).optional(),
    disk_size: z.number().int().min(1).max(65_536).optional(),
    credential: z.string().trim().max(64).optional(),
  }),

  async execute({ conversation, options, app }) {
    const deploys = DeployService.from(app);
    await conversation.defer();
    const { guildId, actor: requester } = conversation;
    const { project, credential } = options;
    // The plan's tier caps the guild's runs at once (never /cloud-destroy: removing resources is always allowed).
    const load = app.runner.loadOf(guildId);
    app.tiers.requireRunSlot(guildId, load.running + load.queued);
    const prepared = deploys.prepare({ guildId, requester, channelId: conversation.channelId, project, credential, resourceType: options.resource_type, instanceType: options.instance_type, diskSizeGb: options.disk_size });
    if (!prepared.allowed) return conversation.edit(violationView(prepared.decision));
    const planned = await deploys.plan(prepared.deployment, planProgress(conversation, prepared.deployment));
    // In place of the progress message, so nobody is left looking at "Planning…"; a refused plan offers no Apply.
    if (!planned.ok) {
      if ('refusedByPolicy' in planned) return deliverResult(conversation, planRefusedByPolicyView(prepared.deployment, planned.refusedByPolicy));
      return deliverResult(conversation, planFailedView(prepared.deployment, planned.error));
    }

    const press = await offerApply(conversation, planned.deployment, (by) => deploys.mayConfirm(planned.deployment, by));
    if (press?.buttonId !== 'apply') return deploys.cancel(planned.deployment, press?.by);
    const step = deploys.decide(planned.deployment, press.by);
    if (step.next === 'refused') return deliverResult(conversation, notAppliedView(planned.deployment, step.refusal));
    if (step.next === 'needs_approval') {
      const answer = await askAdminApproval(conversation, step.deployment, (by) => deploys.approval.mayApprove(step.deployment, by));
      const approval = deploys.approval.approve(step.deployment, answer);
      if (!approval.approved) return deliverResult(conversation, notApprovedView(approval));
    }
    const applied = await deploys.apply(step.deployment, applyProgress(conversation, step.deployment));
    await deliverResult(conversation, applyOutcomeView(step.deployment, applied));
  },

  async autocomplete(request, app) {
    if (request.focused.name === 'project') return completeProjects(app, request);
    if (request.focused.name === 'instance_type') return completeInstanceTypes(app, request);
    return completeCredentials(app, request);
  },
});
