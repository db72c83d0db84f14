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

/** A project's folder holds a link (or similar) the bot will not follow. Nothing in it was changed. */
export class WorkspaceUnsafe extends UserError {
  constructor(readonly entries: string[]) {
    // Names come from the disk: show them printable and short.
    const shown = entries.slice(0, 5).map((entry) => `\`${entry.replace(/[^\x20-\x7e]|`/g, '?').slice(0, 80)}\``).join(', ');
    const more = entries.length > 5 ? ` and ${entries.length - 5} more` : '';
    super(
      'state.workspace_unsafe',
      `The bot refused to run in this project's folder because it holds ${entries.length === 1 ? 'an entry' : 'entries'} ` +
        `the bot never creates (a link to somewhere else): ${shown}${more}. Nothing was run or changed. ` +
        'Ask the bot operator to check and remove them in the deployments folder, then try again.',
    );
  }
}
