/**
 * The one registry of slash commands: the running bot, the console and `npm run register` all read this list,
 * so what is published and what runs cannot drift.
 */
import type { Command } from '../src/interaction/command.js';
import type { DurableComponentHandler } from '../src/interaction/durable-components.js';
import cloudAudit from './admin/cloud-audit.js';
import cloudDrift from './drift/cloud-drift.js';
import { driftButtons } from './drift/drift-buttons.js';
import cloudGuildPolicy from './admin/cloud-guild-policy.js';
import cloudJitGrant from './jit/cloud-jit-grant.js';
import cloudJitList from './jit/cloud-jit-list.js';
import cloudJitRequest from './jit/cloud-jit-request.js';
import cloudJitRevoke from './jit/cloud-jit-revoke.js';
import { jitExtendButtons } from './jit/jit-extend-buttons.js';
import { deployApprovalButtons } from './deploy/deploy-approval-buttons.js';
import { jitRequestButtons } from './jit/jit-request-buttons.js';
import cloudDeploy from './deploy/cloud-deploy.js';
import cloudDestroy from './deploy/cloud-destroy.js';
import { ttlButtons } from './deploy/ttl-buttons.js';
import cloudInit from './projects/cloud-init.js';
import cloudOutputs from './projects/cloud-outputs.js';
import cloudProjects from './projects/cloud-projects.js';
import cloudRuns from './runs/cloud-runs.js';
import cloudVault from './vault/cloud-vault.js';
import cloudCredentials from './credentials/cloud-credentials.js';
import cloudStorage from './storage/cloud-storage.js';
import cloudTemplate from './templates/cloud-template.js';

export const allCommands: readonly Command[] = [
  cloudInit,
  cloudProjects,
  cloudOutputs,
  cloudDeploy,
  cloudDestroy,
  cloudRuns,
  cloudVault,
  cloudGuildPolicy,
  cloudJitGrant,
  cloudJitRequest,
  cloudJitRevoke,
  cloudJitList,
  cloudAudit,
  cloudCredentials,
  cloudStorage,
  cloudTemplate,
  cloudDrift,
];

/**
 * The handlers of durable buttons and forms, whose custom ids name a database record (src/interaction/
 * durable-components.ts): every front end routes presses to them, so they work after a restart.
 */
export const allComponentHandlers: readonly DurableComponentHandler[] = [jitRequestButtons, jitExtendButtons, deployApprovalButtons, driftButtons, ttlButtons];
