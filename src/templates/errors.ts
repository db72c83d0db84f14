import { UserError } from '../shared/errors.js';
import { code, text } from '../shared/text.js';

/** Also what another guild's template looks like from here: the two cases are indistinguishable on purpose. */
export class TemplateNotFound extends UserError {
  constructor(readonly templateName: string) {
    super('templates.not_found', text`This server has no template "${templateName}". The ${code('template')} option lists the templates it can deploy.`);
  }
}
