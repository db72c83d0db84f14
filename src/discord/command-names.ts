/**
 * What a member types for each command the domain points to (src/shared/text.ts CommandKey). The one place that
 * spells slash-command names outside the command definitions; a test checks each against the registered commands.
 * The console reuses it: it offers the same slash commands.
 */
import type { CommandKey } from '../shared/text.js';

export const COMMAND_NAMES: Record<CommandKey, string> = {
  init: '/cloud-init',
  projects: '/cloud-projects',
  outputs: '/cloud-outputs',
  deploy: '/cloud-deploy',
  destroy: '/cloud-destroy',
  'runs.list': '/cloud-runs list',
  'runs.cancel': '/cloud-runs cancel',
  'vault.list': '/cloud-vault list',
  'vault.close': '/cloud-vault close',
  'vault.status': '/cloud-vault status',
  policy: '/cloud-guild-policy',
  'jit.grant': '/cloud-jit-grant',
  'jit.request': '/cloud-jit-request',
  'jit.list': '/cloud-jit-list',
  'jit.revoke': '/cloud-jit-revoke',
  audit: '/cloud-audit',
  credentials: '/cloud-credentials',
  'credentials.add': '/cloud-credentials add',
  'credentials.list': '/cloud-credentials list',
  'credentials.remove': '/cloud-credentials remove',
  'credentials.default': '/cloud-credentials default',
  'credentials.get': '/cloud-credentials get',
  'credentials.update': '/cloud-credentials update',
  'credentials.validate': '/cloud-credentials validate',
  'credentials.rotate': '/cloud-credentials rotate',
  storage: '/cloud-storage',
  'templates.add': '/cloud-template add',
  'templates.list': '/cloud-template list',
  'templates.show': '/cloud-template show',
  'templates.update': '/cloud-template update',
  'templates.remove': '/cloud-template remove',
  'templates.enable': '/cloud-template enable',
  'templates.disable': '/cloud-template disable',
  'drift.enable': '/cloud-drift enable',
  'drift.list': '/cloud-drift list',
};
