/**
 * Nothing is fetched from an arbitrary address: the operator's host list holds host names only (no URL, no
 * `file://`, no `ext::`), the production transport speaks https to those hosts only and refuses names that resolve
 * to metadata addresses, and git itself is told to allow no other protocol, should a URL ever get past the check.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../src/config/index.js';
import { TemplateFetchFailed, TemplateSourceRefused } from '../src/templates/errors.js';
import { GitFetcher } from '../src/templates/git-fetcher.js';
import { httpsGitTransport, type GitTransport } from '../src/templates/git-transport.js';
import { makeBareRepository, type BareRepository } from './support/git-repos.js';
import { makeTempDir } from './support/tmp.js';

let tmp: { dir: string; cleanup: () => void };
let repo: BareRepository;

beforeAll(async () => {
  tmp = makeTempDir('chatops-git-source-');
  repo = await makeBareRepository(tmp.dir, 'modules');
  await repo.commit({ 'main.tf': 'variable "x" {}\n' });
});

afterAll(() => tmp.cleanup());

function configProblem(hosts: string): string {
  try {
    parseConfig({ TEMPLATE_GIT_HOSTS: hosts });
  } catch (error) {
    if (error instanceof ConfigError) return error.problems.join('\n');
  }
  return 'accepted';
}

describe('TEMPLATE_GIT_HOSTS', () => {
  it('holds host names, lower-cased, and nothing is allowed by default', () => {
    expect(parseConfig({}).TEMPLATE_GIT_HOSTS).toEqual([]);
    expect(parseConfig({ TEMPLATE_GIT_HOSTS: ' GitHub.com , gitlab.example.com:8443,' }).TEMPLATE_GIT_HOSTS).toEqual(['github.com', 'gitlab.example.com:8443']);
  });

  it('refuses file://, ext::, URLs, credentials and metadata addresses: no setting can allow them', () => {
    for (const hosts of ['file:///tmp/repos', 'ext::sh -c id', 'https://github.com', 'user@github.com', '169.254.169.254', 'metadata.google.internal', 'github.com/acme']) {
      expect(configProblem(hosts), hosts).toMatch(/^TEMPLATE_GIT_HOSTS: expected host names separated by commas/);
    }
  });
});

describe('the production transport', () => {
  const resolvesTo = (address: string) => async () => [{ address, family: 4 }];

  it('accepts an https address on a listed host whose name resolves to an ordinary address', async () => {
    const transport = httpsGitTransport(['git.example.com'], resolvesTo('203.0.113.10'));
    expect(transport.protocols).toEqual(['https']);
    await expect(transport.checkUrl('https://git.example.com/acme/modules.git')).resolves.toBe('https://git.example.com/acme/modules.git');
  });

  it('refuses a listed name that resolves to a metadata or link-local address, or does not resolve', async () => {
    const metadata = httpsGitTransport(['git.example.com'], resolvesTo('169.254.169.254'));
    await expect(metadata.checkUrl('https://git.example.com/acme/modules.git')).rejects.toThrow(/resolves to a link-local or cloud metadata address/);
    const unresolvable = httpsGitTransport(['git.example.com'], async () => {
      throw new Error('ENOTFOUND');
    });
    await expect(unresolvable.checkUrl('https://git.example.com/acme/modules.git')).rejects.toThrow(/could not be resolved/);
  });

  it('refuses every other scheme, a query, and a host not on the list', async () => {
    const transport = httpsGitTransport(['git.example.com'], resolvesTo('203.0.113.10'));
    for (const [url, reason] of [
      [repo.url, 'only https://'],
      ['ext::sh -c touch% /tmp/pwned', 'only https://'],
      ['ssh://git@git.example.com/acme/modules.git', 'only https://'],
      ['http://git.example.com/acme/modules.git', 'only https://'],
      ['https://git.example.com/acme/modules.git?upload-pack=x', 'must not have a query'],
      ['https://git.example.com.evil.org/acme/modules.git', 'is not one of the git hosts'],
      ['not a url', 'is not a URL'],
    ] as const) {
      const error = await transport.checkUrl(url).catch((caught: unknown) => caught);
      expect(error, url).toBeInstanceOf(TemplateSourceRefused);
      expect((error as Error).message, url).toContain(reason);
    }
  });
});

describe('git itself', () => {
  /** A transport whose URL check lets everything through: what git allows is then the last line. */
  const careless = (protocols: GitTransport['protocols']): GitTransport => ({ protocols, checkUrl: async (url) => url });

  it('allows only the transport’s protocols, so file:// and ext:: fail even past a careless check', async () => {
    const scratch = join(tmp.dir, 'scratch');
    mkdirSync(scratch, { recursive: true });
    const httpsOnly = new GitFetcher({ transport: careless(['https']), timeoutMs: 20_000, scratchDir: scratch });
    const marker = join(tmp.dir, 'ext-ran');
    for (const url of [repo.url, `ext::sh -c touch% ${marker}`]) {
      const error = await httpsOnly.fetch({ url, ref: 'main', subdir: '' }).catch((caught: unknown) => caught);
      expect(error, url).toBeInstanceOf(TemplateFetchFailed);
      expect((error as Error).message).toContain('that kind of address is not allowed');
    }
    expect(existsSync(marker)).toBe(false);
    const local = new GitFetcher({ transport: careless(['file']), timeoutMs: 20_000, scratchDir: scratch });
    await expect(local.fetch({ url: repo.url, ref: 'main', subdir: '' })).resolves.toMatchObject({ files: [{ path: 'main.tf' }] });
  });

  it('refuses a transport that would allow anything but https or file', () => {
    expect(() => new GitFetcher({ transport: careless(['ext' as 'https']), timeoutMs: 1000, scratchDir: tmp.dir })).toThrow(/only https/);
  });
});
