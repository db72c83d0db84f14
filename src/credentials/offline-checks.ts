/**
 * What can be known about a Google Cloud or Azure credential without calling the provider: the bot makes no
 * OAuth exchange with them, so `validate` checks what the secrets say about themselves and says so plainly.
 * A check that fails is a refusal (this credential cannot work); one that cannot be made is a neutral note.
 */
import { createPrivateKey } from 'node:crypto';
import { command, text, type RichText } from '../shared/text.js';
import { parseProviderSecrets } from './secrets.js';

export type OfflineCheck =
  | { ok: true; offline: true; checked: string[]; note: RichText }
  | { ok: false; code: string; message: RichText };

const SERVICE_ACCOUNT_EMAIL = /^[a-z0-9-]+@[a-z0-9-]+\.iam\.gserviceaccount\.com$/;

function isPrivateKey(pem: string): boolean {
  try {
    return createPrivateKey({ key: pem, format: 'pem' }).type === 'private';
  } catch {
    return false;
  }
}

/** Google Cloud: the project id, and a key file's shape, its private key and its service-account address. */
export function checkGcpOffline(secrets: Record<string, string>): OfflineCheck {
  const { project_id: projectId, credentials_json: keyFile } = parseProviderSecrets('gcp', secrets);
  const checked = ['project id format'];
  let mismatch: RichText | undefined;
  if (keyFile !== undefined) {
    // Already checked as a service-account key by parseProviderSecrets: these fields are strings.
    const key = JSON.parse(keyFile) as { private_key: string; client_email: string; project_id?: unknown };
    if (!isPrivateKey(key.private_key)) {
      return {
        ok: false,
        code: 'PrivateKeyInvalid',
        message: text`The key file's private_key is not a readable private key (it may have been cut when pasted). Download a new key for the service account and store it again with ${command('credentials.update')}.`,
      };
    }
    if (!SERVICE_ACCOUNT_EMAIL.test(key.client_email)) {
      return {
        ok: false,
        code: 'ClientEmailInvalid',
        message: text`The key file's client_email is not a service-account address (name@project.iam.gserviceaccount.com). Paste the key file Google gave you, unchanged.`,
      };
    }
    checked.push('key file (service account, private key readable)');
    if (typeof key.project_id === 'string' && key.project_id !== projectId) {
      mismatch = text` The key file belongs to project ${key.project_id}, not ${projectId}: that works only if its service account was given access to ${projectId}.`;
    }
  }
  return {
    ok: true,
    offline: true,
    checked,
    note: text`Format checked; a Google Cloud credential cannot be validated offline, so whether Google accepts it shows at the first plan.${mismatch}${keyFile === undefined ? text` No key file is stored: runs use the project id only.` : undefined}`,
  };
}

/** Azure: the ids are GUIDs and a client secret is present (parseProviderSecrets); nothing more is knowable offline. */
export function checkAzureOffline(secrets: Record<string, string>): OfflineCheck {
  const parsed = parseProviderSecrets('azure', secrets);
  if (parsed.subscription_id === parsed.tenant_id || parsed.client_id === parsed.tenant_id) {
    return {
      ok: false,
      code: 'AzureIdsMixedUp',
      message: text`The tenant id equals the subscription or client id: one of them was pasted in the wrong field. Store it again with ${command('credentials.update')}, each id from its own place in the Azure portal.`,
    };
  }
  return {
    ok: true,
    offline: true,
    checked: ['subscription, tenant and client ids (GUIDs, distinct)', 'client secret present'],
    note: text`Format checked; an Azure credential cannot be validated offline, so whether Azure accepts it shows at the first plan.`,
  };
}
