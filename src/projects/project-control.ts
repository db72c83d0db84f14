/**
 * Who may take charge of a project, or of a credential that is not the project's own cloud. Deployer access lets a
 * member work on their own projects; renewing another member's project (which wipes the owner's vault session and
 * puts the caller's keys in its place) and driving a stored credential of another provider (the guild's S3 keys as a
 * GCP project's state store) need more: being the owner, or admin — Manage Server, or a JIT Admin grant in force on
 * that provider. Checked before anything is asked for or changed.
 */
import type { CredentialStore } from '../credentials/credential-store.js';
import type { CredentialProvider, Provider } from '../db/schema.js';
import type { JitService } from '../jit/jit-service.js';
import type { JitAuditSink } from '../jit/ports.js';
import { levelLabel, providerLabel, satisfies } from '../jit/levels.js';
import { UserError } from '../shared/errors.js';
import { command, member as memberText, strong, text } from '../shared/text.js';
import type { BackendSettings } from '../state/backend.js';
import type { Project } from './project-repository.js';
import { withArticle } from '../shared/article.js';

export interface Member {
  id: string;
  isGuildAdmin: boolean;
}

type Deps = { jit: Pick<JitService, 'effectiveLevel'>; audit: JitAuditSink };

/** The cloud whose JIT grants govern a stored credential: S3-compatible keys are AWS's, as for `/cloud-storage`. */
export function credentialCloud(provider: CredentialProvider): Provider {
  return provider === 's3' ? 'aws' : provider;
}

export class NotProjectController extends UserError {}

async function isAdminOn(deps: Deps, guildId: string, member: Member, provider: Provider): Promise<boolean> {
  return satisfies(await deps.jit.effectiveLevel({ guildId, userId: member.id, provider, isGuildAdmin: member.isGuildAdmin }), 'admin');
}

/**
 * Refuses unless `member` owns `project` (created it) or is admin on its provider.
 * @param doing what the member asked for, audited under `action` (e.g. `vault.renew`).
 * @throws NotProjectController saying whose project it is and how to get the right.
 */
export async function requireProjectControl(
  deps: Deps,
  input: { guildId: string; member: Member; project: Pick<Project, 'name' | 'provider' | 'createdBy'>; action: string; doing: string },
): Promise<void> {
  const { guildId, member, project } = input;
  if (member.id === project.createdBy || (await isAdminOn(deps, guildId, member, project.provider))) return;
  deps.audit.record({
    guildId,
    userId: member.id,
    action: input.action,
    target: project.name,
    outcome: 'denied',
    details: { reason: 'not_owner', owner: project.createdBy, provider: project.provider },
  });
  throw new NotProjectController(
    'project.not_owner',
    text`Project ${strong(project.name)} belongs to ${memberText(project.createdBy)}: only they, a server admin, or a member with ${levelLabel('admin')} access to ${providerLabel(project.provider)} can ${input.doing}. Nothing was changed. Ask ${memberText(project.createdBy)} to do it, or ask a server admin for ${command('jit.grant', { provider: project.provider, level: 'admin' })}.`,
  );
}

/**
 * Refuses a stored credential of another cloud than the project's unless `member` stored it or is admin on the
 * credential's cloud. A credential of the project's own cloud is left to the usual provider checks.
 * @throws NotProjectController naming the credential, its cloud and how to get the right.
 */
export async function requireOtherProviderCredential(
  deps: Deps,
  input: {
    guildId: string;
    member: Member;
    projectName: string;
    projectProvider: Provider;
    credential: { name: string; provider: CredentialProvider; createdBy: string };
    action: string;
  },
): Promise<void> {
  const { guildId, member, credential } = input;
  const cloud = credentialCloud(credential.provider);
  if (cloud === input.projectProvider) return;
  if (member.id === credential.createdBy || (await isAdminOn(deps, guildId, member, cloud))) return;
  deps.audit.record({
    guildId,
    userId: member.id,
    action: input.action,
    target: input.projectName,
    outcome: 'denied',
    details: { reason: 'other_provider_credential', credentialName: credential.name, credentialProvider: credential.provider },
  });
  throw new NotProjectController(
    'credentials.other_provider_needs_admin',
    text`The stored credential '${credential.name}' is ${withArticle(credential.provider)} credential, not ${withArticle(input.projectProvider)} one: using it for ${withArticle(input.projectProvider)} project needs ${levelLabel('admin')} access to ${providerLabel(cloud)}, Manage Server, or being the member who stored it (${memberText(credential.createdBy)}). Nothing was asked or changed. Ask a server admin for ${command('jit.grant', { provider: cloud, level: 'admin' })}, or to run this ${command('init')} for you.`,
  );
}

/**
 * The S3 state of a GCP or Azure project names a stored credential of another cloud: see
 * requireOtherProviderCredential. Renewing a project (already authorised) with the state credential it already has
 * is no new use of it.
 */
export async function requireStateCredentialUse(
  deps: Deps & { credentials: Pick<CredentialStore, 'find'> },
  input: { guildId: string; member: Member; projectName: string; projectProvider: Provider; settings: BackendSettings; existing?: Pick<Project, 'backendSettings'> },
): Promise<void> {
  if (input.settings.kind !== 's3' || !input.settings.credentialName) return;
  const current = input.existing?.backendSettings;
  if (current?.kind === 's3' && current.credentialName === input.settings.credentialName) return;
  const credential = await deps.credentials.find(input.guildId, input.settings.credentialName);
  // A name that does not resolve was already refused when the settings were built; nothing to authorise.
  if (!credential) return;
  await requireOtherProviderCredential(deps, { ...input, credential, action: 'project.init' });
}
