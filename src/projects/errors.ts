import { UserError } from '../shared/errors.js';
import { code, command, literal, strong, text } from '../shared/text.js';
import { withArticle } from '../shared/article.js';

export class ProjectExists extends UserError {
  constructor(name: string) {
    super(
      'projects.exists',
      text`This server already has a project called "${name}" (or one whose name gives the same folder name). Choose another name, or use the existing project.`,
    );
  }
}

/** Also what another guild's project looks like from here: the two cases are indistinguishable on purpose. */
export class ProjectNotFound extends UserError {
  constructor(reference: string) {
    super('projects.not_found', text`This server has no project "${reference}". Run ${command('projects')} to see the projects it has.`);
  }
}

export class InvalidProject extends UserError {
  constructor(problems: string[]) {
    super('projects.invalid', `That project cannot be created: ${problems.join('; ')}.`);
  }
}

export class InvalidRegion extends UserError {
  constructor(provider: string, region: string, examples: string) {
    super(
      'projects.invalid_region',
      text`"${region}" is not ${withArticle(provider.toUpperCase())} region name. Use a region such as ${examples}.`,
    );
  }
}

export class ResourceNotFound extends UserError {
  constructor(id: number) {
    // Resources are listed under their projects: there is no command of their own.
    super('resources.not_found', text`This server has no resource #${id}. Run ${command('projects')} to see its projects and their resources.`);
  }
}

export class InvalidResource extends UserError {
  constructor(problems: string[]) {
    super('resources.invalid', `That resource cannot be recorded: ${problems.join('; ')}.`);
  }
}

export class IllegalStatusTransition extends UserError {
  constructor(id: number, from: string, to: string) {
    super(
      'resources.illegal_transition',
      text`Resource #${id} is ${from}; it cannot become ${to} from there. Check ${command('projects')} for its current state.`,
    );
  }
}

/**
 * `/cloud-init` was given a name that is not the existing project's, yet maps to the same folder and state
 * ("Café" when "Cafe" exists: both are `cafe`). Renewing the other project silently would hand it new keys.
 */
export class ProjectNameTakenBySimilar extends UserError {
  constructor(typed: string, existing: { name: string; slug: string }) {
    super(
      'projects.similar_name_exists',
      text`A project ${strong(literal(existing.name))} already exists here, and "${literal(typed)}" would share its folder and state (both are ${code(existing.slug)}). Nothing was asked or changed. To renew that project, give its name exactly: ${code(existing.name)}. For a new project, pick a name that differs in more than accents or punctuation.`,
    );
  }
}

/** Whether `typed` names `existing` as spelled (letter case and surrounding spaces aside), not just as slugged. */
export function namesSameProject(typed: string, existing: string): boolean {
  const spelling = (name: string) => name.normalize('NFC').trim().toLocaleLowerCase('en-US');
  return spelling(typed) === spelling(existing);
}
