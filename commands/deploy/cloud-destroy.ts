import { InteractionContextType, SlashCommandBuilder } from 'discord.js';
import { z } from 'zod';
import { credentialsForRun, parseCredentialChoice } from '../../src/deploy/run-credentials.js';
import { forgetProject } from '../../src/deploy/forget-project.js';
import { defineCommand } from '../../src/interaction/command.js';
import { isUserError } from '../../src/shared/errors.js';
import { completeCredentials, completeProjects } from '../views/autocomplete.js';
import { destroyedView, failureView } from '../views/deploy.js';
import { mention } from '../views/format.js';
import { resourceLine } from '../views/projects-list.js';
import { deliverResult, withLiveProgress } from '../views/run-progress.js';

const CONFIRM_WINDOW_MS = 2 * 60_000;

export default defineCommand({
  data: new SlashCommandBuilder()
    .setName('cloud-destroy')
    .setDescription('Destroy one resource of a project, or all of them, after you confirm')
    .setContexts(InteractionContextType.Guild)
    .addStringOption((o) => o.setName('project').setDescription('Project').setRequired(true).setAutocomplete(true).setMaxLength(64))
    .addIntegerOption((o) => o.setName('resource').setDescription('Resource id (see /cloud-projects); leave out for all').setMinValue(1))
    .addStringOption((o) => o.setName('credential').setDescription('session, service, or a stored credential').setAutocomplete(true).setMaxLength(64))
    .addBooleanOption((o) => o.setName('forget').setDescription('Then forget the project: its name, folder and vault session are freed')),
  options: z
    .object({
      project: z.string().trim().min(1).max(64),
      resource: z.number().int().positive().optional(),
      credential: z.string().trim().max(64).optional(),
      forget: z.boolean().default(false),
    })
    .refine((o) => !(o.forget && o.resource !== undefined), { message: '`forget` is for the whole project: leave `resource` out', path: ['forget'] }),

  async execute({ conversation, options, app }) {
    const { guildId, actor } = conversation;
    const project = app.projects.get(guildId, options.project);
    // Destroying is more than deploying: it needs admin on the provider (or Manage Server).
    app.jit.require({ guildId, userId: actor.id, provider: project.provider, isGuildAdmin: actor.isGuildAdmin, needed: 'admin' });
    const targets = app.resources
      .listByProject(guildId, project.id)
      .filter((r) => r.status === 'active' || r.status === 'failed' || r.status === 'interrupted')
      .filter((r) => options.resource === undefined || r.id === options.resource);
    if (targets.length === 0 && !options.forget) {
      await conversation.reply({
        ephemeral: true,
        content: options.resource
          ? `Project **${project.name}** has no resource #${options.resource} that can be destroyed. \`/cloud-projects\` lists them.`
          : `Project **${project.name}** has nothing to destroy. Add \`forget:true\` to forget the project itself.`,
      });
      return;
    }
    const credentials = targets.length ? credentialsForRun(app, project, parseCredentialChoice(options.credential, project)) : undefined;
    const what = options.resource ? `resource #${options.resource}` : targets.length ? 'everything' : 'nothing';
    const question = {
      notices: [
        {
          title: options.forget ? `🧨 Destroy ${what} in ${project.name} and forget it?` : `🧨 Destroy ${what} in ${project.name}?`,
          tone: 'danger' as const,
          description: [
            targets.map(resourceLine).join('\n'),
            options.forget ? 'Then the project is forgotten: its vault session, folder and name are freed.' : '',
            'This cannot be undone.',
          ]
            .filter(Boolean)
            .join('\n\n'),
        },
      ],
    };
    const choice = await conversation.offerButtons(
      { ...question, buttons: [{ id: 'destroy', label: 'Destroy', style: 'danger' }, { id: 'keep', label: 'Keep', style: 'secondary' }] },
      {
        where: 'response',
        timeoutMs: CONFIRM_WINDOW_MS,
        authorize: (by) => (by.id === actor.id ? null : 'Only the member who asked can confirm this.'),
        settled: (pressed) => ({
          ...question,
          content: !pressed
            ? '⌛ Nothing destroyed: the buttons expired.'
            : pressed.buttonId !== 'destroy'
              ? '✖️ Kept: nothing destroyed.'
              : targets.length
                ? '▶️ Destroying…'
                : '▶️ Forgetting…',
        }),
      },
    );
    if (choice?.buttonId !== 'destroy') return;

    if (credentials) {
      try {
        const result = await withLiveProgress(conversation, `🧨 Destroying in ${project.name}…`, (hooks) =>
          app.runner.destroy({
            guildId,
            projectSlug: project.slug,
            userId: actor.id,
            channelId: conversation.channelId,
            credentialEnv: credentials.env,
            enginePreference: app.policies.get(guildId).enginePreference,
            resourceId: options.resource,
            ...hooks,
          }),
        );
        app.audit.record({ guildId, userId: actor.id, action: 'deploy.destroy', target: project.name, outcome: 'success', details: { resourceIds: result.resourceIds } });
        await deliverResult(conversation, destroyedView(project, result, actor.id));
      } catch (error) {
        app.audit.record({ guildId, userId: actor.id, action: 'deploy.destroy', target: project.name, outcome: 'failed' });
        if (!isUserError(error)) throw error;
        await deliverResult(conversation, { ...failureView(`❌ Destroy in ${project.name} failed`, error.message), content: mention(actor.id) });
        return;
      }
    }
    if (options.forget) {
      forgetProject(app, project, actor.id);
      const forgotten = { content: `🗑️ Project **${project.name}** forgotten: its vault session, folder and name are freed.` };
      // After a destroy its result stays on screen and this follows; with nothing to destroy, this is the answer.
      if (credentials) await conversation.followUp(forgotten);
      else await deliverResult(conversation, forgotten);
    }
  },

  async autocomplete(request, app) {
    return request.focused.name === 'project' ? completeProjects(app, request) : completeCredentials(app, request);
  },
});
