/**
 * Which of a template's inputs a member is asked for, in what order and in which steps: the required ones (no
 * default) first, then, when asked for, those with a default; secrets in steps of their own (private, never shown
 * again); at most five per step, Discord's limit for one form. Inputs the run's credentials provide (a GCP project's
 * `project_id`) are never asked. Each step's values are read and checked by the same rules as the whole deployment
 * (src/templates/input-values.ts), so a wrong value is reported at the step that asked for it.
 */
import type { Provider } from '../db/schema.js';
import { UserError } from '../shared/errors.js';
import { code, join, text, type RichText, type Text } from '../shared/text.js';
import { inputSpecOf, readInput, type InputProblem, type InputSpec, type JsonValue } from '../templates/input-values.js';
import type { SensitiveInputDeclaration } from '../projects/resource-repository.js';
import type { Template, TemplateVariable } from '../templates/template.js';
import { UnreadableType } from '../templates/type-constraint.js';

/** Discord's form holds five fields; so does every step. */
export const FIELDS_PER_STEP = 5;

/** Variables a run of this provider's projects already sets (from its credentials): asking for them would be wrong. */
export const SUPPLIED_BY_CREDENTIALS: Record<Provider, readonly string[]> = { gcp: ['project_id'], aws: [], azure: [] };

export interface InputField {
  variable: TemplateVariable;
  spec: InputSpec;
  /** No default: the form's field must be filled. */
  required: boolean;
}

export interface InputStep {
  /** 1-based, of `count`. */
  number: number;
  count: number;
  /** Secret inputs only: asked privately, never shown back, kept only in the vault session. */
  secret: boolean;
  fields: InputField[];
}

export class UnusableTemplate extends UserError {
  constructor(template: string, input: string, reason: string) {
    super('templates.unusable_input', text`Template ${code(template)} cannot be deployed: its input ${code(input)} ${reason}. Ask whoever added the template to fix it.`);
  }
}

export class InvalidInputs extends UserError {
  constructor(readonly problems: readonly InputProblem[]) {
    super('templates.invalid_inputs', text`Some inputs are not valid; nothing was run:\n${problemsText(problems)}`);
  }
}

/** "`ports` (item 2): expected a number (such as 3 or 2.5)." */
export function describeProblem(problem: InputProblem): Text {
  return text`${code(problem.input)}${problem.at ? text` (${problem.at})` : undefined}: expected ${problem.expected}.`;
}

/**
 * The steps of asking for `template`'s inputs on a `provider` project; every asked input's type read first.
 * @throws UnusableTemplate when a declared type or name cannot be read (never guessed at).
 */
export function inputSteps(template: Template, provider: Provider, options: { askOptional: boolean }): InputStep[] {
  const asked = template.variables.filter((v) => !SUPPLIED_BY_CREDENTIALS[provider].includes(v.name));
  const fields = asked.map((variable): InputField => ({ variable, spec: specOf(template, variable), required: !variable.hasDefault }));
  const groups = [
    fields.filter((f) => f.required && !f.spec.sensitive),
    fields.filter((f) => f.required && f.spec.sensitive),
    ...(options.askOptional ? [fields.filter((f) => !f.required && !f.spec.sensitive), fields.filter((f) => !f.required && f.spec.sensitive)] : []),
  ];
  const chunks = groups.flatMap((group) => chunk(group, FIELDS_PER_STEP));
  return chunks.map((stepFields, i) => ({ number: i + 1, count: chunks.length, secret: stepFields[0]!.spec.sensitive, fields: stepFields }));
}

/** Every input of the template this bot will pass, read (for the whole deployment: after every step). */
export function inputSpecs(template: Template, provider: Provider): InputField[] {
  return template.variables
    .filter((v) => !SUPPLIED_BY_CREDENTIALS[provider].includes(v.name))
    .map((variable) => ({ variable, spec: specOf(template, variable), required: !variable.hasDefault }));
}

/**
 * The steps of asking again for secret inputs a deployment declared (to destroy it once its vault session has
 * gone). Their types were read when it was deployed; one that no longer reads is refused, as at the deployment.
 */
export function secretSteps(declarations: readonly SensitiveInputDeclaration[]): InputStep[] {
  const fields = declarations.map((d): InputField => {
    const variable: TemplateVariable = { name: d.name, type: d.type, hasDefault: d.hasDefault, sensitive: true, nullable: d.nullable };
    return { variable, spec: specOf({ name: 'this deployment' }, variable), required: !d.hasDefault };
  });
  const chunks = chunk(fields, FIELDS_PER_STEP);
  return chunks.map((stepFields, i) => ({ number: i + 1, count: chunks.length, secret: true, fields: stepFields }));
}

export interface ReadInputs {
  /** Non-sensitive values given, by name (saved with the deployment). */
  values: Record<string, JsonValue>;
  /** Sensitive values given, by name (kept only in the vault session). */
  secrets: Record<string, JsonValue>;
  problems: InputProblem[];
}

/**
 * Reads what was typed (by variable name) for `fields`: a required input left empty is a problem, an optional one
 * keeps its default (left out). Every problem is listed, not only the first.
 */
export function readInputs(fields: readonly InputField[], typed: Readonly<Record<string, string>>): ReadInputs {
  const result: ReadInputs = { values: {}, secrets: {}, problems: [] };
  for (const field of fields) {
    const reading = readInput(field.spec, typed[field.variable.name] ?? '');
    if (!reading.given) {
      if (field.required) result.problems.push({ input: field.variable.name, at: '', expected: 'a value (this input has no default)' });
      continue;
    }
    if ('problem' in reading) result.problems.push(reading.problem);
    else (field.spec.sensitive ? result.secrets : result.values)[field.variable.name] = reading.value;
  }
  return result;
}

/** The problems with one step's values (by variable name); empty when they all fit their types. */
export function stepProblems(step: InputStep, typed: Readonly<Record<string, string>>): InputProblem[] {
  return readInputs(step.fields, typed).problems;
}

/** The problems, one per line. */
export function problemsText(problems: readonly InputProblem[]): RichText {
  return join(problems.map((problem) => text`• ${describeProblem(problem)}`), '\n');
}

function specOf(template: Pick<Template, 'name'>, variable: TemplateVariable): InputSpec {
  try {
    return inputSpecOf(variable);
  } catch (error) {
    if (error instanceof UnreadableType) throw new UnusableTemplate(template.name, variable.name, `declares a type this bot cannot read (${error.message})`);
    throw error;
  }
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const chunks: T[][] = [];
  for (let i = 0; i < items.length; i += size) chunks.push(items.slice(i, i + size));
  return chunks;
}
