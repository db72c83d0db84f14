import type { ModalSpec } from '../../src/interaction/conversation.js';
import type { CredentialProvider } from '../../src/db/schema.js';
import { SECRET_MAX_LENGTH } from '../../src/credentials/secrets.js';

/** Discord's longest text input. */
const MODAL_INPUT_MAX = 4000;

/** The fields of the secret-entry modal per provider. Secrets go only through a modal, never a slash option. */
const FIELDS: Record<CredentialProvider, ModalSpec['fields']> = {
  gcp: [
    { id: 'project_id', label: 'GCP project id', placeholder: 'my-project-123456', maxLength: 30 },
    { id: 'credentials_json', label: 'Service account key JSON (optional)', multiline: true, required: false, maxLength: Math.min(MODAL_INPUT_MAX, SECRET_MAX_LENGTH.credentials_json) },
  ],
  aws: [
    { id: 'access_key_id', label: 'Access key id', placeholder: 'AKIA…', maxLength: SECRET_MAX_LENGTH.access_key_id },
    { id: 'secret_access_key', label: 'Secret access key', maxLength: SECRET_MAX_LENGTH.secret_access_key },
  ],
  s3: [
    { id: 'access_key_id', label: 'Access key id', maxLength: SECRET_MAX_LENGTH.access_key_id },
    { id: 'secret_access_key', label: 'Secret access key', maxLength: SECRET_MAX_LENGTH.secret_access_key },
  ],
  azure: [
    { id: 'subscription_id', label: 'Subscription id', maxLength: 36 },
    { id: 'tenant_id', label: 'Tenant id', maxLength: 36 },
    { id: 'client_id', label: 'Client (application) id', maxLength: 36 },
    { id: 'client_secret', label: 'Client secret', maxLength: SECRET_MAX_LENGTH.client_secret },
  ],
};

export function secretForm(provider: CredentialProvider, title: string): ModalSpec {
  return { title, fields: FIELDS[provider] };
}

/** How long a member has to fill the form before it is thrown away. */
export const FORM_TIMEOUT_MS = 10 * 60_000;
