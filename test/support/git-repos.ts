/**
 * Local git repositories for template tests: a bare repository in a temporary folder (what an https host would
 * serve), commits pushed to it from a scratch clone, and the test-only transport that lets the catalogue fetch from
 * `file://` URLs under that folder. Production code cannot build this transport from any setting.
 */
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { execa } from 'execa';
import type { GitTransport } from '../../src/templates/git-transport.js';
import { TemplateSourceRefused } from '../../src/templates/errors.js';

const GIT_ENV = { GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null', GIT_AUTHOR_NAME: 'Test', GIT_AUTHOR_EMAIL: 'test@example.com', GIT_COMMITTER_NAME: 'Test', GIT_COMMITTER_EMAIL: 'test@example.com' };

async function git(cwd: string, args: string[]): Promise<string> {
  const { stdout } = await execa('git', args, { cwd, env: GIT_ENV });
  return stdout.trim();
}

/** Files to commit: path → content; `null` deletes; `{ link: target }` commits a symbolic link. */
export type Tree = Record<string, string | null | { link: string }>;

export interface BareRepository {
  /** `file:///…/name.git` */
  url: string;
  /** Writes the files, commits them on `branch` (default main), pushes; returns the commit id. */
  commit(files: Tree, options?: { branch?: string; tag?: string }): Promise<string>;
}

export async function makeBareRepository(root: string, name: string): Promise<BareRepository> {
  const bare = join(root, `${name}.git`);
  const work = join(root, `${name}-work`);
  mkdirSync(work, { recursive: true });
  await git(root, ['init', '--quiet', '--bare', bare]);
  await git(bare, ['symbolic-ref', 'HEAD', 'refs/heads/main']);
  await git(work, ['init', '--quiet', '--initial-branch=main']);
  return {
    url: pathToFileURL(bare).href,
    async commit(files, { branch = 'main', tag } = {}) {
      await git(work, ['checkout', '--quiet', '-B', branch]);
      for (const [path, content] of Object.entries(files)) {
        const target = join(work, path);
        rmSync(target, { force: true, recursive: true });
        if (content === null) continue;
        mkdirSync(dirname(target), { recursive: true });
        if (typeof content === 'string') writeFileSync(target, content);
        else symlinkSync(content.link, target);
      }
      await git(work, ['add', '--all']);
      await git(work, ['commit', '--quiet', '--allow-empty', '-m', `commit on ${branch}`]);
      if (tag) await git(work, ['tag', tag]);
      await git(work, ['push', '--quiet', '--force', bare, `${branch}:refs/heads/${branch}`, ...(tag ? [`refs/tags/${tag}`] : [])]);
      return git(work, ['rev-parse', 'HEAD']);
    },
  };
}

/** The test-only allowance: `file://` URLs inside `root`, and nothing else. */
export function localGitTransport(root: string): GitTransport {
  const allowed = pathToFileURL(root).href;
  return {
    protocols: ['file'],
    async checkUrl(url) {
      if (!url.startsWith(`${allowed}/`)) throw new TemplateSourceRefused('not one of the test repositories');
      return url;
    },
  };
}
