import type { Message } from '../../src/interaction/conversation.js';
import type { GuildPolicy } from '../../src/policy/policy-service.js';
import type { Project } from '../../src/projects/project-repository.js';
import type { VaultSessionInfo } from '../../src/vault/ephemeral-vault.js';
import { code, literal, money, strong, text, time } from './format.js';
import { vaultSecurityNotice } from './security-notice.js';

const PROVIDER_NAMES = { gcp: 'GCP', aws: 'AWS', azure: 'Azure' } as const;

export function initialisedView(input: {
  project: Project;
  policy: GuildPolicy;
  session?: VaultSessionInfo;
  ttlMinutes?: number;
  credentialName?: string;
}): Message {
  const { project, policy, session } = input;
  const fields = [
    ...(session
      ? [
          { name: '🔑 Vault session', value: code(session.sessionId) },
          { name: '⏳ Expires', value: time(session.expiresAt) },
        ]
      : [{ name: '🔑 Credential', value: text`stored credential ${strong(input.credentialName ?? '?')}` }]),
    { name: '📋 Project', value: literal(project.name) },
    { name: '☁️ Provider', value: PROVIDER_NAMES[project.provider] },
    { name: '🌍 Region', value: project.region },
    { name: '🗄️ State', value: project.stateBackend },
    { name: '💰 Budget limit', value: text`${money(policy.maxBudgetMonthly)}/month` },
    { name: '🛠️ IaC engine', value: policy.enginePreference },
  ];
  return {
    ephemeral: true,
    notices: [
      {
        title: '✅ Secure cloud project initialised',
        tone: 'success',
        description: session
          ? `🔒 **Security notice**\n${vaultSecurityNotice(input.ttlMinutes ?? 30)}`
          : '🔒 Runs use the stored credential, decrypted only for the run.',
        fields,
      },
    ],
  };
}
