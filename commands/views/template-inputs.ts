/**
 * How /cloud-deploy asks for a template's inputs: one form per step (src/deploy/template-inputs.ts decides the
 * steps), the first as the command's answer, each further one behind a "Next inputs (2/3)" button (Discord opens a
 * form only in answer to a press; the console asks at once). Each step's values are checked as soon as it is sent:
 * a wrong one brings the same form back, with what was typed (never a secret) and what was expected.
 */
import type { InputField, InputStep } from '../../src/deploy/template-inputs.js';
import { InvalidInputs, problemsText, stepProblems } from '../../src/deploy/template-inputs.js';
import type { Conversation, Message, ModalField, ModalSpec } from '../../src/interaction/conversation.js';
import { MAX_INPUT_CHARS, wantsSeveralLines, writingHint } from '../../src/templates/input-values.js';
import type { InputProblem } from '../../src/templates/input-values.js';
import { code, join, strong, text } from './format.js';
import { FORM_TIMEOUT_MS } from './secret-form.js';

/** A step's form may come back this many times for corrections; then the deployment stops, saying why. */
const MAX_ATTEMPTS = 3;
const TITLE_MAX = 45;

/** What the forms are for: a template's deployment in a project, in steps. */
export interface InputForms {
  template: string;
  project: string;
  steps: readonly InputStep[];
}

/**
 * Asks every step in turn; returns what was typed, by variable name, or null when the member closed a form or let it
 * time out (the command then ends, having kept nothing).
 * @throws InvalidInputs when a step is still wrong after its last correction.
 */
export async function askTemplateInputs(conversation: Conversation, request: InputForms): Promise<Record<string, string> | null> {
  const typed: Record<string, string> = {};
  let first = true;
  for (const step of request.steps) {
    let problems: InputProblem[] = [];
    for (let attempt = 1; ; attempt++) {
      const form = inputForm(request.template, step, typed);
      const answer = first
        ? await conversation.askModal(form, FORM_TIMEOUT_MS)
        : await conversation.askFurtherModal(stepPrompt(request, step, problems), problems.length ? `Correct inputs (${step.number}/${step.count})` : `Next inputs (${step.number}/${step.count})`, form, FORM_TIMEOUT_MS);
      if (!answer) {
        // After the first form there is a prompt to say it on; the first form, once dismissed, leaves nothing to edit.
        if (!first) await conversation.edit(notFilledView());
        return null;
      }
      first = false;
      for (const field of step.fields) typed[field.variable.name] = answer.values[field.variable.name] ?? '';
      problems = stepProblems(step, typed);
      if (problems.length === 0) break;
      if (attempt === MAX_ATTEMPTS) throw new InvalidInputs(problems);
    }
  }
  return typed;
}

/** The form of one step: a field per input, named after it, with how to write its type. */
export function inputForm(template: string, step: InputStep, typed: Readonly<Record<string, string>>): ModalSpec {
  const what = step.secret ? 'secrets' : 'inputs';
  const counter = step.count > 1 ? ` (${step.number}/${step.count})` : '';
  const room = TITLE_MAX - ` ${what}${counter}`.length;
  const name = template.length > room ? `${template.slice(0, room - 1)}…` : template;
  return { title: `${name} ${what}${counter}`, secret: step.secret, fields: step.fields.map((field) => inputField(field, step.secret ? undefined : typed[field.variable.name])) };
}

function inputField(field: InputField, typed: string | undefined): ModalField {
  const { variable, spec } = field;
  const hint = writingHint(spec.type);
  // A secret's default may itself be a secret: it is never shown.
  const byDefault = variable.hasDefault && !spec.sensitive ? ` · empty: ${JSON.stringify(variable.defaultValue ?? null)}` : variable.hasDefault ? ' · empty: its default' : '';
  const description = variable.description ? `${variable.description} — ${hint}${byDefault}` : `${hint}${byDefault}`;
  return {
    id: variable.name,
    label: variable.name,
    placeholder: description.slice(0, 100),
    description,
    required: field.required,
    multiline: wantsSeveralLines(spec.type),
    maxLength: MAX_INPUT_CHARS,
    ...(typed ? { value: typed } : {}),
  };
}

/** What the button of a further step sits under: which step, what it holds, or what to correct. */
function stepPrompt(request: InputForms, step: InputStep, problems: readonly InputProblem[]): Message {
  const secret = step.secret ? text`\nThese are secrets: kept only in this project's vault session, never saved or shown.` : undefined;
  const content = problems.length
    ? text`⚠️ Some inputs of ${strong(request.template)} (step ${step.number} of ${step.count}) are not valid:\n${problemsText(problems)}\nPress the button to correct them.${secret}`
    : text`📝 ${strong(request.template)} in ${strong(request.project)}: step ${step.number} of ${step.count} — ${join(step.fields.map((f) => code(f.variable.name)), ', ')}.${secret}`;
  return { ephemeral: true, content };
}

function notFilledView(): Message {
  return { ephemeral: true, content: '⌛ Not deployed: the inputs form was closed or not sent in time. Nothing you typed was kept.' };
}
