/** What a template may be called: what members type, and the operator's folder name for an operator template. */
import { InvalidTemplateName } from './errors.js';

export const TEMPLATE_NAME_MAX = 40;
const TEMPLATE_NAME = /^[a-z][a-z0-9-]{0,39}$/;

export function isTemplateName(value: string): boolean {
  return TEMPLATE_NAME.test(value) && !value.endsWith('-') && !value.includes('--');
}

/** The name as typed, lower-cased and trimmed. @throws InvalidTemplateName */
export function parseTemplateName(typed: string): string {
  const name = typed.trim().toLowerCase();
  if (!isTemplateName(name)) throw new InvalidTemplateName(typed.trim().slice(0, TEMPLATE_NAME_MAX + 10));
  return name;
}
