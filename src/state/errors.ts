import { UserError } from '../shared/errors.js';

export class InvalidProjectName extends UserError {
  constructor(reason: string) {
    super(
      'state.invalid_project_name',
      `That project name cannot be used: ${reason}. Use letters, digits, spaces or dashes, for example "Production API".`,
    );
  }
}

/** A path would have left its guild's folder. Nothing was created, read or deleted. */
export class PathEscape extends UserError {
  constructor() {
    super(
      'state.path_escape',
      "That project's folder is not where it should be, so the bot refused to use it. Ask the bot operator to check the deployments folder.",
    );
  }
}
