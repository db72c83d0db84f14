/**
 * /cloud-deploy with a template of the guild's catalogue: refused before any form when it cannot go ahead (project,
 * access, template, run slot, credentials), then its inputs in forms (commands/views/template-inputs.ts), then the
 * same plan → Apply → apply as the built-ins.
 */
import type { AppContext } from '../../src/app/context.js';
import { DeployService } from '../../src/deploy/deploy-service.js';
import { TemplateDeployments } from '../../src/deploy/template-deployment.js';
import type { Conversation } from '../../src/interaction/conversation.js';
import { askTemplateInputs } from '../views/template-inputs.js';
import type { TtlTyped } from '../../src/ttl/ttl-duration.js';
import { planAndApply } from './plan-and-apply.js';

export interface TemplateDeployOptions {
  project: string;
  template: string;
  credential?: string | undefined;
  ttl?: TtlTyped | undefined;
  askOptional: boolean;
}

export async function deployTemplate(conversation: Conversation, app: AppContext, options: TemplateDeployOptions): Promise<void> {
  const templates = TemplateDeployments.from(app);
  const { guildId, actor: requester } = conversation;
  const request = await templates.begin({ guildId, requester, project: options.project, template: options.template, askOptional: options.askOptional, credential: options.credential, ttl: options.ttl });
  // Before the form is shown: on SQLite it settles within microtasks (a cached count), so the modal is not late.
  const load = await app.runner.loadOf(guildId);
  await app.tiers.requireRunSlot(guildId, load.running + load.queued);

  const typed = await askTemplateInputs(conversation, { template: request.template.name, project: request.project.name, steps: request.steps });
  if (!typed) return;
  await conversation.defer();
  const deployment = await templates.prepare(request, { channelId: conversation.channelId, credential: options.credential, typed });
  await planAndApply(conversation, DeployService.from(app), deployment);
}
