/**
 * What /cloud-credentials and /cloud-storage show. Only metadata ever reaches these functions: a credential's secret
 * is never an argument here, so no view can print one.
 */
import type { AppContext } from '../../src/app/context.js';
import type { CredentialMetadata, RotationReport } from '../../src/credentials/credential-store.js';
import type { CredentialValidation } from '../../src/credentials/validate.js';
import type { CredentialProvider } from '../../src/db/schema.js';
import type { AutocompleteRequest, Choice, Message } from '../../src/interaction/conversation.js';
import type { Notice } from '../../src/notify/notifier.js';
import { formatBytes, type BucketInfo, type ObjectInfo, type StorageSummary } from '../../src/storage/insights.js';
import type { Text } from '../../src/shared/text.js';
import { code as codeText, command, escapeMarkdown, join, member, strong, text, time, toText } from './format.js';

export const CREDENTIAL_PROVIDER_CHOICES = [
  { name: 'Amazon Web Services (aws)', value: 'aws' },
  { name: 'S3-compatible store: Spaces, MinIO, R2… (s3)', value: 's3' },
  { name: 'Google Cloud (gcp)', value: 'gcp' },
  { name: 'Microsoft Azure (azure)', value: 'azure' },
] as const;

/** Discord caps an embed description at 4096 characters. */
const DESCRIPTION_LIMIT = 4000;

function clip(text: string): string {
  return text.length <= DESCRIPTION_LIMIT ? text : `${text.slice(0, DESCRIPTION_LIMIT - 1)}…`;
}

/** Inline code that cannot be broken out of by a backtick in the text (object keys may contain anything). */
function code(text: string): string {
  return `\`${text.replace(/`/g, "'")}\``;
}

function keyHint(credential: CredentialMetadata): string {
  return credential.keyIdHint === null ? '' : ` · key …${credential.keyIdHint}`;
}

function location(credential: CredentialMetadata): Text {
  return join([credential.region ? text`region ${credential.region}` : undefined, credential.endpoint ? text`endpoint ${codeText(credential.endpoint)}` : undefined], ' · ');
}

/** One line per credential: name, provider, location, default flag, key hint, who stored it and when, last use. */
export function credentialLine(credential: CredentialMetadata): Text {
  const where = location(credential);
  const used = credential.lastUsedAt === null ? text`never used` : text`last used ${time(credential.lastUsedAt)}`;
  return text`${strong(credential.name)} — ${credential.provider}${credential.isDefault ? text` ⭐ default` : undefined}${keyHint(credential)}${where.segments.length ? text` · ${where}` : undefined}\n  stored by ${member(credential.createdBy)} ${time(credential.createdAt)} · ${used}`;
}

export function credentialListView(credentials: readonly CredentialMetadata[]): Message {
  const description = credentials.length
    ? join(credentials.map(credentialLine), '\n')
    : text`No stored credentials. Add one with ${command('credentials.add')}; secrets are typed into a private form.`;
  return { ephemeral: true, notices: [{ title: '🔑 Stored credentials', description }] };
}

export function credentialStoredView(credential: CredentialMetadata): Message {
  return {
    ephemeral: true,
    notices: [
      {
        title: text`✅ Credential ${credential.name} stored (encrypted)`,
        tone: 'success',
        description: text`${credentialLine(credential)}\n\nThe secret is encrypted at rest and will never be shown again. Check it with ${command('credentials.validate', { name: credential.name })}.`,
      },
    ],
  };
}

export function credentialValidationView(credential: CredentialMetadata, result: CredentialValidation, bucket: string | undefined): Message {
  const target = bucket === undefined ? '' : ` on bucket ${code(bucket)}`;
  let notice: Notice;
  if (!result.ok) {
    notice = {
      title: `❌ ${escapeMarkdown(credential.name)} was refused`,
      tone: 'danger',
      description: toText(result.message),
      fields: [{ name: 'Provider error', value: code(result.code) }],
    };
  } else if ('offline' in result) {
    // Neutral, not a failure: nothing was wrong, the provider simply cannot be asked from here.
    notice = {
      title: `☑️ ${escapeMarkdown(credential.name)}: format checked`,
      tone: 'info',
      description: toText(result.note),
      fields: [{ name: 'Checked', value: result.checked.join(' · ') }],
    };
  } else {
    notice = {
      title: `✅ ${escapeMarkdown(credential.name)} works`,
      tone: 'success',
      description: `The provider accepted a signed request${target}${keyHint(credential)}.`,
    };
  }
  return { ephemeral: true, notices: [notice] };
}

/** One credential's metadata, for `get`: never its secret. */
export function credentialDetailView(credential: CredentialMetadata, usedByProjects: readonly string[]): Message {
  const used = credential.lastUsedAt === null ? text`never` : time(credential.lastUsedAt);
  return {
    ephemeral: true,
    notices: [
      {
        title: text`🔑 ${credential.name}`,
        fields: [
          { name: 'Provider', value: text`${credential.provider}${credential.isDefault ? text` ⭐ this server’s default` : undefined}` },
          { name: 'Region', value: credential.region === null ? text`none` : codeText(credential.region) },
          { name: 'Endpoint', value: credential.endpoint === null ? text`the provider’s own` : codeText(credential.endpoint) },
          { name: 'Key', value: credential.keyIdHint === null ? text`—` : text`…${credential.keyIdHint}` },
          { name: 'Stored by', value: text`${member(credential.createdBy)} ${time(credential.createdAt)}` },
          { name: 'Last used', value: used },
          { name: 'Projects using it', value: usedByProjects.length ? join(usedByProjects.map((name) => codeText(name)), ', ') : text`none` },
        ],
        description: text`The secret is encrypted at rest and is never shown. Replace it with ${command('credentials.update', { name: credential.name })}.`,
      },
    ],
  };
}

export function credentialUpdatedView(credential: CredentialMetadata, changed: readonly string[]): Message {
  return {
    ephemeral: true,
    notices: [
      {
        title: text`✅ Credential ${credential.name} updated`,
        tone: 'success',
        description: text`Replaced: ${changed.join(', ')}. The old encrypted secret is erased; projects using this credential use the new one from their next run.\n\n${credentialLine(credential)}\n\nCheck it with ${command('credentials.validate', { name: credential.name })}.`,
      },
    ],
  };
}

/**
 * Rotation covers every guild's rows, but a guild admin only sees names from their own guild; other guilds'
 * unreadable rows are counted, not named (the operator's log names them).
 */
export function rotationView(report: RotationReport, guildId: string): Message {
  const mine = report.unreadable.filter((row) => row.guildId === guildId);
  const others = report.unreadable.length - mine.length;
  const lines = [`Re-encrypted under the current master key: **${report.reencrypted}**.`];
  if (mine.length > 0) {
    lines.push(
      `Could not be read (left as they were; they need a master key that is no longer configured, or must be stored again):`,
      ...mine.map((row) => `• **${escapeMarkdown(row.name)}** (encrypted with key ${code(row.masterKeyId)})`),
    );
  }
  if (others > 0) lines.push(`${others} credential(s) of other servers could not be read either; the operator's log names them.`);
  if (report.unreadable.length === 0) lines.push('Every stored credential is now under the current master key.');
  return {
    ephemeral: true,
    notices: [
      {
        title: '🔁 Master key rotation',
        tone: report.unreadable.length === 0 ? 'success' : 'warning',
        description: clip(lines.join('\n')),
      },
    ],
  };
}

/** Autocomplete over the guild's stored credentials, optionally only some providers. */
export async function completeStoredCredentials(
  app: AppContext,
  request: AutocompleteRequest,
  providers?: readonly CredentialProvider[],
): Promise<Choice[]> {
  const typed = request.focused.value.toLowerCase();
  return (await app.credentials.list(request.guildId))
    .filter((c) => providers === undefined || providers.includes(c.provider))
    .filter((c) => c.name.includes(typed))
    .slice(0, 25)
    .map((c) => ({ name: `${c.name} (${c.provider}${c.isDefault ? ', default' : ''}${c.keyIdHint ? `, key …${c.keyIdHint}` : ''})`, value: c.name }));
}

/** The providers whose credentials sign S3 requests. */
export const STORAGE_PROVIDERS = ['aws', 's3'] as const satisfies readonly CredentialProvider[];

/** Which key a storage reply used: a stored credential, or a one-off key. */
export interface StorageVia {
  name: string;
}

export function storageTitle(icon: string, what: string, credential: StorageVia): string {
  return `${icon} ${what} — via ${escapeMarkdown(credential.name)}`;
}

export function bucketsView(credential: StorageVia, buckets: readonly BucketInfo[], fromAllowList = false): Message {
  const lines = buckets.map((b) => text`• ${codeText(b.name)}${b.createdAt === null ? undefined : text` — created ${time(b.createdAt, 'datetime')}`}`);
  return {
    ephemeral: true,
    notices: [
      {
        title: storageTitle('🪣', 'Buckets', credential),
        description: fromAllowList
          ? text`This key may not list buckets; these are the buckets the credential is set up for:\n${join(lines, '\n')}`
          : lines.length
            ? join(lines, '\n')
            : 'This credential sees no buckets.',
      },
    ],
  };
}

export function scope(bucket: string, prefix: string | undefined): string {
  return prefix ? `${code(bucket)} under ${code(prefix)}` : code(bucket);
}

export function summaryView(credential: StorageVia, bucket: string, prefix: string | undefined, summary: StorageSummary): Message {
  return {
    ephemeral: true,
    notices: [
      {
        title: storageTitle('📦', 'Storage summary', credential),
        description: `Bucket ${scope(bucket, prefix)}`,
        fields: [
          { name: 'Total size', value: `${formatBytes(summary.totalBytes)} (${summary.totalBytes.toLocaleString('en-US')} bytes)` },
          { name: 'Objects', value: summary.objectCount.toLocaleString('en-US') },
        ],
      },
    ],
  };
}

export function objectsView(
  kind: 'largest' | 'recent',
  credential: StorageVia,
  bucket: string,
  prefix: string | undefined,
  objects: readonly ObjectInfo[],
): Message {
  const lines = objects.map((o, i) => {
    const modified = o.lastModified === null ? undefined : text` — modified ${time(o.lastModified, 'datetime')}`;
    return text`${i + 1}. ${codeText(o.key)} — ${formatBytes(o.size)}${modified}`;
  });
  const what = kind === 'largest' ? `Largest objects in ${scope(bucket, prefix)}` : `Most recently modified in ${scope(bucket, prefix)}`;
  return {
    ephemeral: true,
    notices: [
      {
        title: storageTitle(kind === 'largest' ? '🐘' : '🕒', kind === 'largest' ? 'Largest objects' : 'Recent objects', credential),
        description: text`${toText(what)}\n${lines.length ? join(lines, '\n') : text`No objects there.`}`,
      },
    ],
  };
}
