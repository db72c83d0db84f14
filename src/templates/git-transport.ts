/**
 * Which repositories a guild admin may name, and which git protocols a fetch may use. In production there is one
 * answer: https, to a host the operator listed in TEMPLATE_GIT_HOSTS, that never resolves to a link-local or
 * metadata address (src/shared/endpoint.ts). `file://`, `ext::`, ssh and every other transport are impossible by
 * any setting: the host list holds host names only, and the protocols are fixed here. Tests give the catalogue
 * another GitTransport for local bare repositories, through the composition root's host seams.
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import { isForbiddenHost, unsafeResolution, type LookupAll } from '../shared/endpoint.js';
import { code, text } from '../shared/text.js';
import { TemplateSourceRefused } from './errors.js';
import { isSafeRelative } from './module-files.js';

/** The protocols a transport may ask git to allow. Never `ext` (it runs a command) nor `ssh`. */
export type GitProtocol = 'https' | 'file';

export interface GitTransport {
  /** What git may speak for this fetch (GIT_ALLOW_PROTOCOL); every other protocol is refused by git itself. */
  readonly protocols: readonly GitProtocol[];
  /**
   * Checks a repository URL a guild admin typed, before anything is fetched.
   * @returns the URL to fetch. @throws TemplateSourceRefused saying why.
   */
  checkUrl(url: string): Promise<string>;
}

const HOST_NOTE = 'TEMPLATE_GIT_HOSTS lists the hosts (e.g. github.com,gitlab.example.com) guild admins may add templates from, over https.';

/** TEMPLATE_GIT_HOSTS: `github.com,gitlab.example.com:8443`, host names only, lower-cased. */
export const gitHostListSchema = z
  .string()
  .trim()
  .optional()
  .transform((value, ctx) => {
    const hosts = (value ?? '').split(',').map((entry) => entry.trim().toLowerCase()).filter((entry) => entry !== '');
    for (const host of hosts) {
      let parsed: URL | undefined;
      try {
        parsed = new URL(`https://${host}`);
      } catch {
        parsed = undefined;
      }
      if (parsed === undefined || parsed.host !== host || host.includes('@') || isForbiddenHost(parsed.hostname)) {
        ctx.addIssue({ code: 'custom', message: `host names separated by commas, such as github.com or git.example.com:8443 (not URLs; "${host.slice(0, 60)}" is not one)` });
        return z.NEVER;
      }
    }
    return hosts;
  });

/** A branch, tag or full commit: git's ref alphabet, never an option (`-…`) or a refspec (`a:b`). */
export const gitRefSchema = z
  .string()
  .trim()
  .min(1)
  .max(200, 'at most 200 characters')
  .refine(
    (ref) => /^[A-Za-z0-9._/-]+$/.test(ref) && !ref.startsWith('-') && !ref.startsWith('/') && !ref.endsWith('/') && !ref.includes('..') && !ref.includes('//') && !ref.endsWith('.lock'),
    'a branch, tag or commit such as main, v1.2.0 or a full 40-character commit',
  );

/** A folder inside the repository: relative, no `..`; '' for the repository's top. */
export const gitSubdirSchema = z
  .string()
  .trim()
  .max(200, 'at most 200 characters')
  .transform((subdir) => subdir.replace(/^\.?\/+/, '').replace(/\/+$/, ''))
  .refine((subdir) => subdir === '' || (/^[A-Za-z0-9._ /-]+$/.test(subdir) && isSafeRelative(subdir)), 'a folder inside the repository, such as modules/web (no .., no leading /)');

/**
 * https to the listed hosts only. `resolve` is the name lookup (the system's by default).
 */
export function httpsGitTransport(allowedHosts: readonly string[], resolve?: LookupAll): GitTransport {
  const hosts = new Set(allowedHosts.map((host) => host.toLowerCase()));
  return {
    protocols: ['https'],
    async checkUrl(typed: string): Promise<string> {
      if (hosts.size === 0) {
        throw new TemplateSourceRefused('the bot’s operator allows no git host, so no template can be fetched from git', HOST_NOTE);
      }
      let url: URL;
      try {
        url = new URL(typed.trim());
      } catch {
        throw new TemplateSourceRefused(text`${code(typed.slice(0, 100))} is not a URL; give the repository’s https address, such as https://github.com/acme/modules.git`);
      }
      if (url.protocol !== 'https:') throw new TemplateSourceRefused(text`only https:// repository addresses are accepted, not ${code(url.protocol)}`);
      if (url.username !== '' || url.password !== '') throw new TemplateSourceRefused('the address must not contain a user name or password (only public repositories can be added)');
      if (url.search !== '' || url.hash !== '') throw new TemplateSourceRefused('the address must not have a query (?…) or a fragment (#…)');
      if (url.pathname === '/' || url.pathname === '') throw new TemplateSourceRefused('the address names no repository (add its path, such as /acme/modules.git)');
      if (!hosts.has(url.host.toLowerCase())) {
        throw new TemplateSourceRefused(text`${code(url.host)} is not one of the git hosts the bot’s operator allows (${[...hosts].join(', ')})`, HOST_NOTE);
      }
      const hostname = url.hostname.replace(/^\[|\]$/g, '');
      if (isForbiddenHost(hostname)) throw new TemplateSourceRefused('the address points at a link-local or cloud metadata address');
      if (isIP(hostname) === 0) {
        const problem = await unsafeResolution(hostname, resolve);
        if (problem === 'unresolvable') throw new TemplateSourceRefused(text`its host ${code(hostname)} could not be resolved; check the name`);
        if (problem === 'forbidden') throw new TemplateSourceRefused(text`its host ${code(hostname)} resolves to a link-local or cloud metadata address`);
      }
      return url.href;
    },
  };
}
