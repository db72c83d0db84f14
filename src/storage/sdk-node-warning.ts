/**
 * The AWS SDK warns on stderr, once per process, that its versions published after January 2027 need Node 22. This
 * bot supports Node 20.12+ (README: "Node versions"); the warning is for whoever upgrades the dependency, and on the
 * console or in the operator's log it reads like a fault. The SDK offers a switch for it, set here unless the
 * operator already chose (AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=false keeps the warning).
 * The engine never sees it: it is started with a minimal environment of its own.
 */
const SWITCH = 'AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED';

/** Call before the first S3 client is built: the SDK checks at construction time. */
export function quietSdkNodeVersionWarning(): void {
  process.env[SWITCH] ??= 'true';
}
