import { InteractionContextType, SlashCommandBuilder } from 'discord.js';
import { z } from 'zod';
import { DestroyService } from '../../src/deploy/destroy-service.js';
import { defineCommand } from '../../src/interaction/command.js';
import { completeCredentials, completeProjects } from '../views/autocomplete.js';
import { destroyOutcomeView, destroyProgress, forgottenView, notDestroyedView, nothingToDestroyView, offerDestroy } from '../views/destroy.js';
import { deliverResult } from '../views/run-progress.js';
import { askTemplateInputs } from '../views/template-inputs.js';

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
    const destroys = DestroyService.from(app);
    const { guildId, actor } = conversation;
    const prepared = await destroys.prepare({ guildId, requester: actor, channelId: conversation.channelId, project: options.project, resourceId: options.resource, forget: options.forget, credential: options.credential });
    if (!prepared.ready) return conversation.reply(nothingToDestroyView(prepared));
    const destruction = prepared.destruction;
    // The engine needs a template deployment's secret inputs to destroy it: asked again when the vault lost them.
    if (destruction.secretSteps.length > 0) {
      const target = destruction.targets[0]!;
      const typed = await askTemplateInputs(conversation, { template: target.template, project: destruction.project.name, steps: destruction.secretSteps });
      if (!typed) return;
      await destroys.provideSecrets(destruction, typed);
    }
    const press = await offerDestroy(conversation, destruction, (by) => destroys.mayConfirm(destruction, by));
    if (press?.buttonId !== 'destroy') return;
    const confirmed = await destroys.confirm(destruction, press.by);
    if (!confirmed.confirmed) return deliverResult(conversation, notDestroyedView(destruction, confirmed.refusal));

    if (destruction.targets.length) {
      const destroyed = await destroys.destroy(destruction, destroyProgress(conversation, destruction));
      await deliverResult(conversation, destroyOutcomeView(destruction, destroyed));
      if (!destroyed.ok) return;
    }
    if (options.forget) {
      await destroys.forget(destruction);
      // After a destroy its result stays on screen and this follows; with nothing to destroy, this is the answer.
      if (destruction.targets.length) await conversation.followUp(forgottenView(destruction));
      else await deliverResult(conversation, forgottenView(destruction));
    }
  },

  async autocomplete(request, app) {
    return request.focused.name === 'project' ? completeProjects(app, request) : completeCredentials(app, request);
  },
});
