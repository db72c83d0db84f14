/**
 * What an engine sees inside its sandbox, as bubblewrap options. Everything not listed here does not exist inside:
 * the root is an empty, read-only tmpfs with these mounts on it.
 *
 * - The system, read-only: /usr and the /bin, /sbin, /lib* folders (or their merged-/usr links), and from /etc only
 *   what programs need to resolve names and trust certificates. Not the rest of /etc, where an operator's unit
 *   files, /etc/environment or /etc/shadow may live.
 * - A private /proc (its own PID namespace: only the engine's processes), a minimal /dev, an empty /tmp.
 * - Read-only: the engine binary, the folders on its PATH and the operator's extra folders, at their own paths.
 * - Read-write: the run's workspace at `/ws`, and the guild's provider cache at its own path (sandbox-view.ts).
 *
 * Namespaces: PID, IPC, UTS and (where the kernel has it) cgroup are its own; the network is shared, as providers
 * must reach their cloud APIs. Capabilities are dropped: run as root, bubblewrap would otherwise keep them all,
 * and CAP_SYS_ADMIN or CAP_DAC_READ_SEARCH are ways out of a mount namespace.
 */
import { lstatSync, readlinkSync } from 'node:fs';
import { sep } from 'node:path';

/** Where the run's workspace is inside: fixed, so state files never record a host path. */
export const WORKSPACE_INSIDE = '/ws';

const SYSTEM_FOLDERS = ['/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'] as const;

/** From /etc: name resolution, CA certificates (Debian, Red Hat, SUSE layouts), users and groups, time zone. */
const ETC_ENTRIES = [
  '/etc/resolv.conf',
  '/etc/hosts',
  '/etc/host.conf',
  '/etc/nsswitch.conf',
  '/etc/gai.conf',
  '/etc/services',
  '/etc/protocols',
  '/etc/passwd',
  '/etc/group',
  '/etc/localtime',
  '/etc/ssl',
  '/etc/ca-certificates',
  '/etc/pki',
  '/etc/alternatives',
  '/etc/ld.so.cache',
  '/etc/ld.so.conf',
  '/etc/ld.so.conf.d',
] as const;

/** A host path the engine sees, at `inside`. */
export interface SandboxMount {
  host: string;
  inside: string;
  writable: boolean;
}

/** The system folders as this host has them: bound read-only, or recreated as the links they are (merged /usr). */
function systemOptions(): string[] {
  const options: string[] = [];
  for (const folder of SYSTEM_FOLDERS) {
    let isLink: boolean;
    try {
      isLink = lstatSync(folder).isSymbolicLink();
    } catch {
      continue;
    }
    if (isLink) options.push('--symlink', readlinkSync(folder), folder);
    else options.push('--ro-bind', folder, folder);
  }
  for (const entry of ETC_ENTRIES) options.push('--ro-bind-try', entry, entry);
  return options;
}

/** Every system folder and /etc entry the engine sees (for checking that nothing private lies under one). */
export function systemPaths(): string[] {
  return [...SYSTEM_FOLDERS, ...ETC_ENTRIES];
}

function depth(path: string): number {
  return path.split(sep).length;
}

/**
 * bubblewrap's options (everything before `--`) for these mounts. Mounts are made outermost first, so a folder
 * bound inside another one (a PATH folder under /tmp) is not hidden by it.
 */
export function bwrapOptions(mounts: readonly SandboxMount[]): string[] {
  const ordered = [...mounts].sort((a, b) => depth(a.inside) - depth(b.inside) || a.inside.localeCompare(b.inside));
  const binds = ordered.flatMap((mount) => [mount.writable ? '--bind' : '--ro-bind', mount.host, mount.inside]);
  return [
    ...['--unshare-pid', '--unshare-ipc', '--unshare-uts', '--unshare-cgroup-try', '--hostname', 'engine'],
    '--cap-drop',
    'ALL',
    ...systemOptions(),
    ...['--proc', '/proc', '--dev', '/dev', '--tmpfs', '/tmp'],
    ...binds,
    ...['--chdir', WORKSPACE_INSIDE],
    // Last: every mount point above is made, so the root itself can be read-only.
    ...['--remount-ro', '/'],
  ];
}

/** Whether `path` is `folder` or lies under it (both absolute and normalised). */
export function isWithin(path: string, folder: string): boolean {
  if (folder === '/') return true;
  return path === folder || path.startsWith(folder + sep);
}
