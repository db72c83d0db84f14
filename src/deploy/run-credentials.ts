import type { AppContext } from '../app/context.js';
import { resolveRunCredentials, type CredentialChoice } from '../credentials/resolve.js';
import { toEngineEnv } from '../engine/credential-env.js';
import { backendEngineEnv } from './state-backend.js';
import type { Project } from '../projects/project-repository.js';
import { UserError } from '../shared/errors.js';
import { code, command, strong, text } from '../shared/text.js';

export interface RunCredentials {
  /** Environment variables for the engine child only. Never logged, never written. */
  env: Record<string, string>;
  /** What to tell the member was used; no secret. */
  label: string;
}

/**
 * The credentials a run of this project uses: the member's explicit choice, else the credential the project was
 * initialised with (stored), else the project's open vault session, else the guild's default stored credential.
 * `label` names the one picked; the deploy and destroy steps show it before the plan.
 */
export async function credentialsForRun(app: AppContext, project: Project, choice?: CredentialChoice): Promise<RunCredentials> {
  let effective = choice;
  if (!effective && project.credentialSource === 'stored' && project.credentialId !== null) {
    const stored = (await app.credentials.list(project.guildId)).find((c) => c.id === project.credentialId);
    if (!stored) {
      throw new UserError(
        'credentials.project_credential_removed',
        text`The stored credential project ${strong(project.name)} was set up with has been removed. Run ${command('init')} again with another credential, or choose one with the ${code('credential')} option.`,
      );
    }
    effective = { source: 'stored', name: stored.name };
  }
  if (!effective && project.credentialSource === 'service') effective = { source: 'service' };
  const resolved = await resolveRunCredentials({
    guildId: project.guildId,
    provider: project.provider,
    choice: effective,
    vaultSessionId: project.vaultSessionId,
    vault: app.vault,
    store: app.credentials,
    serviceDefaults: app.serviceCredentials.defaults,
    serviceAllowedGuilds: app.serviceCredentials.allowedGuilds,
  });
  // A backend with keys of its own (S3 state of a GCP or Azure project) gets them too, as AWS_* variables.
  const env = { ...(await backendEngineEnv(app, project.guildId, project.backendSettings)), ...toEngineEnv(project.provider, resolved.secrets) };
  return { env, label: resolved.label };
}

/** Parses the `credential` option of run commands: `session`, `service`, or a stored credential's name. */
export function parseCredentialChoice(value: string | undefined, project: Project): CredentialChoice | undefined {
  if (value === undefined) return undefined;
  if (value === 'service') return { source: 'service' };
  if (value === 'session') {
    if (!project.vaultSessionId) {
      throw new UserError('vault.no_session', text`Project ${strong(project.name)} has no vault session. Run ${command('init')} to open one.`);
    }
    return { source: 'ephemeral', sessionId: project.vaultSessionId };
  }
  return { source: 'stored', name: value };
}
