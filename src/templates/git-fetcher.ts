/**
 * Fetches one folder of a repository at one ref, and pins the commit it resolved to. `git` runs through execa with
 * a minimal environment (no credential helper, no prompt, no system or global configuration, only the transport's
 * protocols, no redirects), a timeout, and a shallow fetch into a throw-away bare repository. The files are read
 * from git's objects (`ls-tree`, `cat-file`): nothing is checked out, so no filter, hook or attribute of the
 * repository runs, and links and submodules are refused before any content is read.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { execa } from 'execa';
import { code, text } from '../shared/text.js';
import { ModuleRefused, TemplateFetchFailed, TemplateRefNotFound } from './errors.js';
import type { GitTransport } from './git-transport.js';
import { checkModuleListing, type ModuleFile } from './module-files.js';

export interface FetchRequest {
  url: string;
  /** Branch, tag, full commit, or HEAD for the default branch. */
  ref: string;
  /** Folder inside the repository; '' for its top. */
  subdir: string;
}

export interface FetchedModule {
  commit: string;
  files: ModuleFile[];
}

export interface GitFetcherOptions {
  transport: GitTransport;
  timeoutMs: number;
  /** Where throw-away repositories are made (inside the bot's template store, owner-only). */
  scratchDir: string;
  /** The PATH git is found in. */
  pathEnv?: string;
}

interface TreeEntry {
  mode: string;
  type: string;
  object: string;
  size: number;
  path: string;
}

export class GitFetcher {
  constructor(private readonly options: GitFetcherOptions) {
    if (options.transport.protocols.some((protocol) => protocol !== 'https' && protocol !== 'file')) {
      throw new Error('a git transport may allow only https (and file, for local repositories)');
    }
  }

  /** @throws TemplateRefNotFound, TemplateFetchFailed, ModuleRefused (links, submodules, limits, no such folder) */
  async fetch(request: FetchRequest): Promise<FetchedModule> {
    const scratch = mkdtempSync(join(this.options.scratchDir, 'fetch-'));
    try {
      const gitDir = join(scratch, 'repo.git');
      await this.git(scratch, ['init', '--quiet', '--bare', gitDir]);
      const fetched = await this.git(scratch, ['--git-dir', gitDir, 'fetch', '--quiet', '--depth=1', '--no-tags', '--no-recurse-submodules', '--', request.url, request.ref], {
        allowFailure: true,
      });
      if (fetched.exitCode !== 0) throw fetchFailure(fetched.stderr, request.ref, fetched.timedOut);
      const commit = (await this.git(scratch, ['--git-dir', gitDir, 'rev-parse', '--verify', '--quiet', 'FETCH_HEAD^{commit}'])).stdout.trim();
      const entries = await this.listTree(scratch, gitDir, commit, request.subdir);
      const files = await this.readBlobs(scratch, gitDir, entries);
      return { commit, files };
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  }

  private async listTree(cwd: string, gitDir: string, commit: string, subdir: string): Promise<Array<TreeEntry & { relative: string }>> {
    const args = ['--git-dir', gitDir, 'ls-tree', '-r', '-t', '-z', '--long', '--full-tree', commit];
    if (subdir !== '') args.push('--', `${subdir}/`);
    const { stdout } = await this.git(cwd, args);
    const prefix = subdir === '' ? '' : `${subdir}/`;
    const entries = stdout
      .split('\0')
      .filter((line) => line !== '')
      .map(parseTreeLine)
      .filter((entry) => entry.path.startsWith(prefix) && entry.path !== subdir)
      .map((entry) => ({ ...entry, relative: entry.path.slice(prefix.length) }));
    if (entries.length === 0) {
      throw new ModuleRefused(subdir === '' ? `the repository is empty at commit ${commit.slice(0, 12)}` : text`the repository has no folder ${code(subdir)} at commit ${code(commit.slice(0, 12))}`);
    }
    checkModuleListing(
      entries.map((entry) => ({
        path: entry.relative,
        size: entry.size,
        kind: entry.mode === '120000' ? 'link' : entry.type === 'tree' ? 'directory' : entry.type === 'blob' ? 'file' : 'other',
      })),
    );
    if (entries.some((entry) => entry.relative === '.git' || entry.relative.startsWith('.git/'))) throw new ModuleRefused('the repository holds a .git folder inside the template');
    return entries.filter((entry) => entry.type === 'blob');
  }

  /** Every blob through one `cat-file --batch`: `<object> blob <size>\n<bytes>\n` per object, in the order asked. */
  private async readBlobs(cwd: string, gitDir: string, entries: ReadonlyArray<TreeEntry & { relative: string }>): Promise<ModuleFile[]> {
    if (entries.length === 0) return [];
    const result = await execa('git', ['--git-dir', gitDir, 'cat-file', '--batch'], {
      ...this.processOptions(cwd),
      input: entries.map((entry) => `${entry.object}\n`).join(''),
      encoding: 'buffer',
    });
    const output = Buffer.from(result.stdout);
    const files: ModuleFile[] = [];
    let at = 0;
    for (const entry of entries) {
      const headerEnd = output.indexOf(0x0a, at);
      const [object, type, size] = output.subarray(at, headerEnd).toString('utf8').split(' ');
      const length = Number(size);
      if (object !== entry.object || type !== 'blob' || !Number.isSafeInteger(length)) throw new Error(`git cat-file answered "${object} ${type}" for ${entry.object}`);
      files.push({ path: entry.relative, bytes: Buffer.from(output.subarray(headerEnd + 1, headerEnd + 1 + length)) });
      at = headerEnd + 1 + length + 1;
    }
    return files;
  }

  private processOptions(cwd: string) {
    return {
      cwd,
      // Nothing of the bot's environment (DISCORD_TOKEN, keys, proxies, credential helpers) reaches git.
      extendEnv: false,
      env: {
        PATH: this.options.pathEnv ?? process.env.PATH ?? '/usr/bin:/bin',
        HOME: cwd,
        LC_ALL: 'C',
        GIT_TERMINAL_PROMPT: '0',
        GIT_ASKPASS: '',
        SSH_ASKPASS: '',
        GIT_CONFIG_NOSYSTEM: '1',
        GIT_CONFIG_GLOBAL: '/dev/null',
        GIT_ALLOW_PROTOCOL: this.options.transport.protocols.join(':'),
        GIT_PROTOCOL_FROM_USER: '0',
      },
      timeout: this.options.timeoutMs,
    };
  }

  private async git(cwd: string, args: string[], { allowFailure = false } = {}) {
    const protocols = this.options.transport.protocols.flatMap((protocol) => ['-c', `protocol.${protocol}.allow=always`]);
    const settings = [
      '-c', 'protocol.allow=never', ...protocols,
      '-c', 'credential.helper=',
      '-c', 'http.followRedirects=false',
      '-c', 'core.hooksPath=/dev/null',
      '-c', 'core.fsmonitor=false',
      '-c', 'transfer.fsckObjects=true',
      '-c', 'fetch.recurseSubmodules=false',
    ];
    const result = await execa('git', [...settings, ...args], { ...this.processOptions(cwd), stdin: 'ignore', reject: false });
    if (result.exitCode !== 0 && !allowFailure) {
      if (result.timedOut) throw new TemplateFetchFailed(`git did not finish within ${Math.round(this.options.timeoutMs / 1000)} s`);
      throw new Error(`git ${args.filter((arg) => !arg.startsWith('-')).slice(2, 3).join(' ')} failed: ${firstLine(result.stderr)}`);
    }
    return { exitCode: result.exitCode ?? -1, stdout: result.stdout, stderr: result.stderr, timedOut: result.timedOut };
  }
}

/** `<mode> <type> <object> <size>\t<path>` (ls-tree --long), size `-` for trees. */
function parseTreeLine(line: string): TreeEntry {
  const tab = line.indexOf('\t');
  const [mode = '', type = '', object = '', size = '-'] = line.slice(0, tab).split(' ').filter((part) => part !== '');
  return { mode, type, object, size: size === '-' ? 0 : Number(size), path: line.slice(tab + 1) };
}

function firstLine(stderr: string): string {
  const line = stderr.split('\n').map((part) => part.replace(/^(fatal|error): /, '').trim()).find((part) => part !== '') ?? 'no message';
  return line.slice(0, 200);
}

function fetchFailure(stderr: string, ref: string, timedOut: boolean): Error {
  if (timedOut) return new TemplateFetchFailed('git did not answer in time');
  if (/couldn't find remote ref|not our ref|no such remote ref|unadvertised object/i.test(stderr)) return new TemplateRefNotFound(ref);
  if (/transport '.*' not allowed/i.test(stderr)) return new TemplateFetchFailed('that kind of address is not allowed');
  return new TemplateFetchFailed(firstLine(stderr));
}
