import { InteractionContextType, SlashCommandBuilder } from 'discord.js';
import { z } from 'zod';
import { credentialsForRun, parseCredentialChoice } from '../../src/deploy/run-credentials.js';
import { defineCommand } from '../../src/interaction/command.js';
import { isUserError } from '../../src/shared/errors.js';
import { appliedView, failureView, planView, violationView } from '../views/deploy.js';
import { askAdminApproval } from '../views/approval.js';
import { mention } from '../views/format.js';
import { resourceTypeOption } from '../views/options.js';
import { completeCredentials, completeInstanceTypes, completeProjects } from '../views/autocomplete.js';
import { deliverResult, withLiveProgress } from '../views/run-progress.js';

const APPLY_WINDOW_MS = 5 * 60_000;

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
    const { guildId, actor } = conversation;
    await conversation.defer();
    const project = app.projects.get(guildId, options.project);
    app.jit.require({ guildId, userId: actor.id, provider: project.provider, isGuildAdmin: actor.isGuildAdmin, needed: 'deployer' });

    const request = {
      provider: project.provider,
      resourceType: options.resource_type,
      instanceType: options.instance_type,
      diskSizeGb: options.disk_size,
    };
    const decision = app.policies.validate(guildId, request);
    if (!decision.allowed) {
      app.audit.record({ guildId, userId: actor.id, action: 'deploy.plan', target: project.name, outcome: 'denied', details: { rules: decision.violations.map((v) => v.rule) } });
      await conversation.edit(violationView(decision));
      return;
    }
    const credentials = credentialsForRun(app, project, parseCredentialChoice(options.credential, project));
    const resource = app.resources.create({
      projectId: project.id,
      guildId,
      name: `${options.resource_type}-${app.clock.now().toString(36)}`,
      resourceType: options.resource_type,
      instanceType: options.instance_type,
      diskSizeGb: options.disk_size,
      estimatedMonthlyCost: decision.estimate.monthlyUsd,
      createdBy: actor.id,
    });
    const discard = (planRunId?: number) => {
      if (planRunId !== undefined) app.runner.discardPlan(guildId, planRunId);
      app.resources.setStatus(guildId, resource.id, 'destroyed');
    };
    const runRequest = {
      guildId,
      projectSlug: project.slug,
      userId: actor.id,
      channelId: conversation.channelId,
      credentialEnv: credentials.env,
      enginePreference: app.policies.get(guildId).enginePreference,
    };

    let plan;
    try {
      plan = await withLiveProgress(conversation, `📝 Planning ${options.resource_type} in ${project.name}…`, (hooks) =>
        app.runner.plan({ ...runRequest, ...hooks, resourceId: resource.id }),
      );
    } catch (error) {
      discard();
      app.audit.record({ guildId, userId: actor.id, action: 'deploy.plan', target: project.name, outcome: 'failed', details: { resourceId: resource.id } });
      // Replace the progress message, so nobody is left looking at "Planning…".
      if (!isUserError(error)) throw error;
      await deliverResult(conversation, failureView(`❌ Plan for ${project.name} failed`, error.message));
      return;
    }
    const view = (footer?: string) => planView({ project, resource, plan, decision, credentialLabel: credentials.label, footer });
    const choice = await conversation.offerButtons(
      { ...view(), buttons: [{ id: 'apply', label: 'Apply', style: 'success' }, { id: 'cancel', label: 'Cancel', style: 'secondary' }] },
      {
        where: 'response',
        timeoutMs: APPLY_WINDOW_MS,
        authorize: (by) => (by.id === actor.id || by.isGuildAdmin ? null : 'Only the member who asked for this deployment, or a server admin, can apply or cancel it.'),
        settled: (pressed) =>
          view(!pressed ? '⌛ Not applied: the buttons expired. Run `/cloud-deploy` again.' : pressed.buttonId === 'apply' ? `▶️ Applying (confirmed by ${mention(pressed.by.id)})…` : `✖️ Cancelled by ${mention(pressed.by.id)}.`),
      },
    );
    if (choice?.buttonId !== 'apply') {
      discard(plan.runId);
      app.audit.record({ guildId, userId: choice?.by.id ?? actor.id, action: 'deploy.cancel', target: project.name, outcome: 'success', details: { planRunId: plan.runId } });
      return;
    }

    if (decision.requiresApproval && !(await askAdminApproval({ conversation, app, requester: actor, projectName: project.name, resource, monthlyUsd: decision.estimate.monthlyUsd }))) {
      discard(plan.runId);
      return;
    }

    // Minutes may have passed since the first check: other deployments, or a tighter policy. Check again, counting
    // deployments that passed this check but are not applying yet (their apply may wait for an engine slot), and
    // hold this one's share until its run has ended.
    const recheck = app.policies.validate(guildId, request, app.reservations.reservedFor(guildId));
    if (!recheck.allowed) {
      discard(plan.runId);
      await deliverResult(conversation, violationView(recheck));
      return;
    }
    const release = app.reservations.hold(guildId, resource.id, { monthlyUsd: decision.estimate.monthlyUsd, vm: resource.resourceType === 'vm' });

    try {
      const result = await withLiveProgress(conversation, `🚀 Applying ${options.resource_type} in ${project.name}…`, (hooks) =>
        app.runner.apply({ ...runRequest, ...hooks, planRunId: plan.runId }),
      );
      app.audit.record({ guildId, userId: actor.id, action: 'deploy.apply', target: project.name, outcome: 'success', details: { resourceId: resource.id, runId: result.runId } });
      await deliverResult(conversation, appliedView(project, app.resources.get(guildId, resource.id), result, actor.id));
    } catch (error) {
      app.audit.record({ guildId, userId: actor.id, action: 'deploy.apply', target: project.name, outcome: 'failed', details: { resourceId: resource.id } });
      if (isUserError(error)) {
        await deliverResult(conversation, failureView(`❌ Deployment of ${options.resource_type} #${resource.id} failed`, error.message));
        return;
      }
      throw error;
    } finally {
      release();
    }
  },

  async autocomplete(request, app) {
    if (request.focused.name === 'project') return completeProjects(app, request);
    if (request.focused.name === 'instance_type') return completeInstanceTypes(app, request);
    return completeCredentials(app, request);
  },
});
