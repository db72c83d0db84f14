/**
 * A template deployment's secret inputs live in its project's vault session, next to the project's credentials:
 * one value per deployment, named `deployment.<resource id>`, holding the inputs as JSON (`{ name: value }`). What
 * reads the session for credentials leaves these out; what reads it for a deployment takes only its own.
 */
const PREFIX = 'deployment.';

export function deploymentEntryName(resourceId: number): string {
  if (!Number.isSafeInteger(resourceId) || resourceId <= 0) throw new TypeError('resourceId must be a positive integer');
  return `${PREFIX}${resourceId}`;
}

export function isDeploymentEntry(name: string): boolean {
  return name.startsWith(PREFIX);
}

/** The session's values that are not deployments' inputs: its credentials. */
export function withoutDeploymentEntries(values: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(values).filter(([name]) => !isDeploymentEntry(name)));
}

/** Only the deployments' inputs (carried over when a session is renewed). */
export function deploymentEntriesOf(values: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(values).filter(([name]) => isDeploymentEntry(name)));
}
