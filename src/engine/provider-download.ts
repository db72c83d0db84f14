/**
 * An engine that cannot download its providers (no network, no DNS, a proxy in the way) fails `init` with text that
 * ends in "run the following command: terraform providers", which tells a member nothing. This module recognises that
 * failure, says to the member what happened, and gives the operator, through the log, what to set up.
 */

/** How the member's summary begins; also how the operator's note is recognised on a RunFailed. */
export const PROVIDERS_NOT_DOWNLOADED = 'the engine could not download its providers';

const DOWNLOAD_FAILURES = [
  /Failed to query available provider packages/i,
  /Failed to install provider/i,
  /Failed to resolve provider packages/i,
  /could not connect to registry\./i,
];

/**
 * What the operator must do: written for the log line the bot writes when it happens (README, "Engines without
 * network", says the same at more length). A plugin cache alone is not enough offline: the engine still asks the
 * registry which versions exist. A mirror in one of the engine's implicit mirror folders answers that question.
 */
export const PROVIDER_DOWNLOAD_OPERATOR_NOTE =
  'The engine could not reach its provider registry. Give the bot network access to it (check DNS and proxy), or ' +
  'install the providers from a machine that has access: `terraform providers mirror /usr/local/share/terraform/plugins` ' +
  '(the engine looks there with no configuration), in a folder whose .tf.json requires hashicorp/google ~> 6.0, ' +
  'hashicorp/aws ~> 5.0, hashicorp/azurerm ~> 4.0 and hashicorp/tls ~> 4.0. TF_PLUGIN_CACHE_DIR only saves repeated ' +
  'downloads; offline it does not replace the mirror. See README.md, "Engines without network".';

/** A member-readable summary and detail when `summary`/`detail` (an engine's error) is a provider download failure. */
export function explainProviderDownload(summary: string, detail: string): { summary: string; detail: string } | undefined {
  const all = `${summary}\n${detail}`;
  if (!DOWNLOAD_FAILURES.some((pattern) => pattern.test(all))) return undefined;
  const providers = [...new Set([...all.matchAll(/provider\s+((?:[a-z0-9][\w.-]*\/){1,2}[\w.-]+?)(?=[:\s,]|$)/gi)].map((m) => m[1]))];
  const host = /could not connect to\s+([a-z0-9.-]+\.[a-z]{2,})/i.exec(all)?.[1];
  const which = providers.length > 0 ? ` (${providers.join(', ')})` : '';
  const from = host ? ` from ${host}` : '';
  return {
    summary: `${PROVIDERS_NOT_DOWNLOADED}${which}${from}`,
    detail:
      "The bot's machine cannot reach the provider registry, so nothing was planned or changed. This is the bot's set-up, " +
      "not your request, and it cannot be fixed from here: tell the bot's operator (the bot's log says what to set up).",
  };
}

/** The operator's note for a failure summary written by explainProviderDownload, else undefined. */
export function providerDownloadOperatorNote(summary: string): string | undefined {
  return summary.startsWith(PROVIDERS_NOT_DOWNLOADED) ? PROVIDER_DOWNLOAD_OPERATOR_NOTE : undefined;
}
