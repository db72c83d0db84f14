/** Seed 003's security notice, shown whenever secrets go into the vault. */
export function vaultSecurityNotice(ttlMinutes: number): string {
  return [
    '✅ Secrets encrypted in memory (AES-256-GCM, a key of their own), **never** saved to the database or disk',
    `⏳ The session expires after ${ttlMinutes} minutes; run \`/cloud-init\` again (same name) to renew it`,
    '🛡️ Zero-knowledge: a stolen backup or database holds nothing to steal',
  ].join('\n');
}
