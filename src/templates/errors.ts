/**
 * What can go wrong with a template, said to the guild admin who added it or the member who deploys it. Each error
 * says what was wrong and what to do; the ones only the operator can fix also carry an operator note for the log.
 */
import { UserError } from '../shared/errors.js';
import { code, command, join, text, type Text } from '../shared/text.js';

/** Also what another guild's template looks like from here: the two cases are indistinguishable on purpose. */
export class TemplateNotFound extends UserError {
  constructor(name: string) {
    super('templates.not_found', text`This server has no template "${name}". Run ${command('templates.list')} to see the templates it can deploy.`);
  }
}

export class TemplateNameTaken extends UserError {
  constructor(name: string, holder: 'builtin' | 'operator' | 'git') {
    const whose = holder === 'builtin' ? 'a built-in template' : holder === 'operator' ? 'a template of the bot’s operator' : 'a template of this server';
    super('templates.name_taken', text`"${name}" is already the name of ${whose}. Choose another name.`);
  }
}

export class InvalidTemplateName extends UserError {
  constructor(name: string) {
    super(
      'templates.invalid_name',
      text`"${name}" cannot be a template name: use 1 to 40 lower-case letters, digits and dashes, starting with a letter (for example ${code('web-server')}).`,
    );
  }
}

/** A file the HCL parser (or the JSON reader, for `*.tf.json`) cannot read: the file, the line and what it said. */
export class ModuleUnreadable extends UserError {
  constructor(
    readonly file: string,
    readonly line: number | undefined,
    readonly problem: string,
  ) {
    const where = line === undefined ? code(file) : text`${code(file)} line ${line}`;
    super('templates.unreadable', text`The module cannot be read: ${where}: ${problem}. Fix the file and try again.`);
  }
}

/** A variable block whose contents Terraform would refuse, or that the bot cannot offer as an input. */
export class InvalidVariable extends UserError {
  constructor(file: string, variable: string, problem: string) {
    super('templates.invalid_variable', text`The module cannot be read: in ${code(file)}, variable ${code(variable)} ${problem}.`);
  }
}

/** The module's files break a limit: too many, too large, too deep, a link, or something that is not a file. */
export class ModuleRefused extends UserError {
  constructor(problem: Text | string) {
    super('templates.module_refused', text`The module cannot be used: ${problem}.`);
  }
}

export interface ForbiddenFinding {
  file: string;
  /** What was found, for the member: `resource "null_resource" "x" has a provisioner (local-exec)`. */
  what: string;
}

/** Blocks that would run commands or touch files on the bot's host; refused unless the operator allows them. */
export class ForbiddenModule extends UserError {
  constructor(readonly findings: readonly ForbiddenFinding[]) {
    const listed = join(
      findings.slice(0, 10).map((finding) => text`${code(finding.file)}: ${finding.what}`),
      '; ',
    );
    const more = findings.length > 10 ? text` (and ${findings.length - 10} more)` : undefined;
    super(
      'templates.forbidden',
      text`The module is refused: it could run commands or reach files on the bot’s host. ${listed}${more}. Remove these blocks (provisioners, the external and local providers, module sources outside the template), or ask the bot’s operator whether such templates are allowed.`,
    );
  }

  override get operatorNote(): string {
    return 'TEMPLATE_ALLOW_HOST_ACCESS=true allows templates with provisioners, the external/local providers and remote module sources (they run with the engine, inside its sandbox).';
  }
}

export interface BackendFinding {
  file: string;
  /** The block, as written: `backend "s3"` or `cloud`. */
  block: string;
}

/** The module sets its own state backend: the bot chooses it per project, and writes it for each deployment. */
export class ModuleBackendRefused extends UserError {
  constructor(readonly findings: readonly BackendFinding[]) {
    const listed = join(
      findings.slice(0, 10).map((finding) => text`${code(finding.file)} has a ${code(finding.block)} block`),
      '; ',
    );
    super(
      'templates.own_backend',
      text`The module is refused: ${listed}. The bot chooses the state backend per project (the one ${command('init')} set up) and gives each deployment its own state there, so a template must not name one. Remove the ${code('backend')} or ${code('cloud')} block from its ${code('terraform')} block and try again.`,
    );
  }
}

/** The files of a pinned template no longer match what was pinned: nothing is run from them. */
export class TemplateChanged extends UserError {
  constructor(
    name: string,
    private readonly note: string,
  ) {
    super(
      'templates.changed',
      text`The files of template "${name}" are not the ones it was pinned to, so nothing was run from them. A server admin can pin it again with ${command('templates.update', { name })}, or ask the bot’s operator.`,
    );
  }

  override get operatorNote(): string {
    return this.note;
  }
}

/** Git templates are off, or this URL is not one the operator allows. */
export class TemplateSourceRefused extends UserError {
  constructor(
    reason: Text | string,
    private readonly note?: string,
  ) {
    super('templates.source_refused', text`That repository cannot be used: ${reason}.`);
  }

  override get operatorNote(): string | undefined {
    return this.note;
  }
}

export class TemplateRefNotFound extends UserError {
  constructor(ref: string) {
    super('templates.ref_not_found', text`The repository has no branch, tag or commit ${code(ref)}. Check the name (a commit must be written in full, 40 characters).`);
  }
}

/** Git failed for another reason (unreachable, refused, timed out): what git said, first line only. */
export class TemplateFetchFailed extends UserError {
  constructor(reason: string) {
    super('templates.fetch_failed', text`The repository could not be fetched: ${reason}. Check the URL and that the repository is public, then try again.`);
  }
}

export class TemplateAdminOnly extends UserError {
  constructor() {
    super('permission.templates_admin_only', text`Adding, updating, removing, enabling and disabling templates needs the Manage Server permission. Anyone can see the templates with ${command('templates.list')}.`);
  }
}

/** The built-ins and the operator's templates are not this server's to change. */
export class TemplateNotChangeable extends UserError {
  constructor(name: string, source: 'builtin' | 'operator', action: string) {
    const why =
      source === 'builtin'
        ? text`"${name}" is built into the bot`
        : text`"${name}" belongs to the bot’s operator; this server can only ${action === 'remove' ? text`disable it with ${command('templates.disable', { name })}` : text`enable or disable it`}`;
    super('templates.not_changeable', text`That cannot be done: ${why}.`);
  }
}

/** Only the operator's templates are enabled per server; the others are always available to it. */
export class NotAnOperatorTemplate extends UserError {
  constructor(name: string, source: 'builtin' | 'git') {
    super(
      'templates.not_operator',
      source === 'builtin'
        ? text`"${name}" is built into the bot: it is always available, and cannot be enabled or disabled.`
        : text`"${name}" is this server’s own template: it is available as long as it exists (remove it with ${command('templates.remove', { name })}).`,
    );
  }
}

export class GitTemplatesOff extends UserError {
  constructor() {
    super('templates.git_off', 'The bot’s operator has not turned on templates from git repositories, so none can be added or updated here. Templates of the operator’s own catalogue can still be enabled.');
  }

  override get operatorNote(): string {
    return 'TEMPLATES_FROM_GUILDS=true (with TEMPLATE_GIT_HOSTS) lets guild admins add templates from git repositories.';
  }
}
