/**
 * Picks the cloud credential a run uses. An explicit choice wins; without one the project's open vault session
 * (a secret the member typed for this project at /cloud-init), else the guild's default stored credential for the
 * provider, else a message explaining the options. The label says which was picked and why, so the member reads it
 * before the plan.
 * Service credentials are never picked implicitly: a guild must ask for them and be on the allow-list.
 */
import type { CredentialProvider, CredentialSource } from '../db/schema.js';
import { isUserError } from '../shared/errors.js';
import type { CredentialStore } from './credential-store.js';
import { endpointSchema } from '../shared/endpoint.js';
import { regionSchema } from './details.js';
import {
  CredentialProviderMismatch,
  NoCredentialAvailable,
  ServiceCredentialsNotAllowed,
  ServiceCredentialsUnavailable,
} from './errors.js';
import { parseProviderSecrets, toSecretRecord } from './secrets.js';
import type { ServiceDefaults } from './service-defaults.js';
import { escapeMarkdown } from '../shared/member-text.js';
import { withoutDeploymentEntries } from '../vault/deployment-entries.js';

/** The one thing this module needs from the ephemeral vault. */
export interface VaultReader {
  read(guildId: string, sessionId: string): Record<string, string>;
}

export type CredentialChoice =
  | { source: 'ephemeral'; sessionId: string }
  | { source: 'stored'; name: string }
  | { source: 'service' };

export interface ResolveRunCredentialsInput {
  guildId: string;
  provider: CredentialProvider;
  choice?: CredentialChoice | undefined;
  /** The project's vault session, used when there is no choice; before the guild's default stored credential. */
  vaultSessionId?: string | null | undefined;
  vault: VaultReader;
  store: Pick<CredentialStore, 'getDefault' | 'reveal' | 'list'>;
  serviceDefaults: ServiceDefaults;
  serviceAllowedGuilds: ReadonlySet<string>;
}

export interface ResolvedCredentials {
  source: CredentialSource;
  /** Flat secret fields for the provider; hand to the runner's environment, never to a log. */
  secrets: Record<string, string>;
  /** What to tell the member was used, e.g. "stored credential 'prod' (aws, key …WXYZ)". No secret. */
  label: string;
  region: string | null;
  endpoint: string | null;
}

async function fromStored(input: ResolveRunCredentialsInput, name: string, why = 'stored credential'): Promise<ResolvedCredentials> {
  const { metadata, secrets } = await input.store.reveal(input.guildId, name);
  if (metadata.provider !== input.provider) throw new CredentialProviderMismatch(metadata.name, metadata.provider, input.provider);
  const hint = metadata.keyIdHint === null ? '' : `, key …${metadata.keyIdHint}`;
  return {
    source: 'stored',
    secrets,
    label: `${why} '${escapeMarkdown(metadata.name)}' (${metadata.provider}${hint})`,
    region: metadata.region,
    endpoint: metadata.endpoint,
  };
}

function fromVault(input: ResolveRunCredentialsInput, raw: Record<string, string>): ResolvedCredentials {
  const secrets = toSecretRecord(parseProviderSecrets(input.provider, raw));
  // The session form may also carry where to connect; take it only if well-formed.
  const region = regionSchema.safeParse(raw['region']);
  const endpoint = endpointSchema.safeParse(raw['endpoint']);
  return {
    source: 'ephemeral',
    secrets,
    label: `${input.provider} credentials from this project's vault session (kept in memory only)`,
    region: region.success ? region.data : null,
    endpoint: endpoint.success ? endpoint.data : null,
  };
}

function fromService(input: ResolveRunCredentialsInput): ResolvedCredentials {
  if (!input.serviceAllowedGuilds.has(input.guildId)) throw new ServiceCredentialsNotAllowed();
  const service = input.serviceDefaults[input.provider];
  if (service === undefined) throw new ServiceCredentialsUnavailable(input.provider);
  return {
    source: 'service',
    secrets: { ...service.secrets },
    label: `the service's own ${input.provider} credentials`,
    region: service.region,
    endpoint: service.endpoint,
  };
}

/** Resolves the credential for a run; throws a UserError explaining what to do when there is none. */
export async function resolveRunCredentials(input: ResolveRunCredentialsInput): Promise<ResolvedCredentials> {
  const { choice } = input;
  if (choice !== undefined) {
    switch (choice.source) {
      case 'stored':
        return fromStored(input, choice.name);
      case 'ephemeral':
        return fromVault(input, withoutDeploymentEntries(input.vault.read(input.guildId, choice.sessionId)));
      case 'service':
        return fromService(input);
    }
  }
  // The project's own session first: a secret typed for this project is what its member means to use.
  if (input.vaultSessionId !== undefined && input.vaultSessionId !== null) {
    let raw: Record<string, string> | undefined;
    try {
      // Template deployments' secret inputs may share the session: they are not credentials.
      raw = withoutDeploymentEntries(input.vault.read(input.guildId, input.vaultSessionId));
    } catch (error) {
      // An expired or closed session is simply "no open session" here: the default, or the options, follow.
      if (!isUserError(error)) throw error;
    }
    // A session that is open but incomplete is reported as such, not hidden behind "no credential"; one holding only
    // deployments' inputs (opened for them) holds no credential at all.
    if (raw !== undefined && Object.keys(raw).length > 0) return fromVault(input, raw);
  }
  const preferred = await input.store.getDefault(input.guildId, input.provider);
  if (preferred !== undefined) return fromStored(input, preferred.name, "this server's default stored credential");
  const storedNames = (await input.store.list(input.guildId))
    .filter((credential) => credential.provider === input.provider)
    .map((credential) => credential.name);
  throw new NoCredentialAvailable(input.provider, storedNames);
}
