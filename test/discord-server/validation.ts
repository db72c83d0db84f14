import type { z } from 'zod';
import type { FormProblem } from './errors.js';
import type { AutocompleteChoice, CommandDefinition, CommandOptionDefinition, Component, MessageBody, Modal } from './schemas.js';

/**
 * Discord's documented limits on what a bot sends. Discord rejects violations with 400 code 50035 (Invalid Form Body);
 * this server does the same, so a bot that would fail in production fails in its tests too.
 */

const COMPONENTS_V2 = 1 << 15;
const ACTION_ROW = 1;
const BUTTON = 2;
const TEXT_INPUT = 4;
const LABEL = 18;
const TEXT_DISPLAY = 10;
const COMMAND_NAME = /^[-_'\p{L}\p{N}\p{sc=Deva}\p{sc=Thai}]{1,32}$/u;

function tooLong(path: (string | number)[], max: number): FormProblem {
  return { path, code: 'BASE_TYPE_MAX_LENGTH', message: `Must be ${max} or fewer in length.` };
}

function checkLength(problems: FormProblem[], path: (string | number)[], value: string | null | undefined, max: number) {
  if (value !== null && value !== undefined && value.length > max) problems.push(tooLong(path, max));
}

export function zodProblems(error: z.ZodError): FormProblem[] {
  return error.issues.map((issue) => ({
    path: issue.path.map((key) => (typeof key === 'symbol' ? String(key) : key)),
    code: 'BASE_TYPE_INVALID',
    message: issue.message,
  }));
}

/** Problems with a message body's fields (emptiness is checked separately, once attachments are known). */
export function messageProblems(body: MessageBody): FormProblem[] {
  const problems: FormProblem[] = [];
  const componentsV2 = ((body.flags ?? 0) & COMPONENTS_V2) !== 0;
  checkLength(problems, ['content'], body.content, 2000);
  if (componentsV2 && (body.content || (body.embeds?.length ?? 0) > 0)) {
    problems.push({
      path: ['content'],
      code: 'MESSAGE_CANNOT_USE_LEGACY_FIELDS_WITH_COMPONENTS_V2',
      message: 'The "content" and "embeds" fields cannot be used when using MessageFlags.IS_COMPONENTS_V2',
    });
  }
  const embeds = body.embeds ?? [];
  if (embeds.length > 10) problems.push(tooLong(['embeds'], 10));
  let embedTotal = 0;
  embeds.forEach((embed, index) => {
    checkLength(problems, ['embeds', index, 'title'], embed.title, 256);
    checkLength(problems, ['embeds', index, 'description'], embed.description, 4096);
    checkLength(problems, ['embeds', index, 'footer', 'text'], embed.footer?.text, 2048);
    checkLength(problems, ['embeds', index, 'author', 'name'], embed.author?.name, 256);
    const fields = embed.fields ?? [];
    if (fields.length > 25) problems.push(tooLong(['embeds', index, 'fields'], 25));
    fields.forEach((field, fieldIndex) => {
      checkLength(problems, ['embeds', index, 'fields', fieldIndex, 'name'], field.name, 256);
      checkLength(problems, ['embeds', index, 'fields', fieldIndex, 'value'], field.value, 1024);
      if (field.name.length === 0 || field.value.length === 0) {
        problems.push({
          path: ['embeds', index, 'fields', fieldIndex],
          code: 'BASE_TYPE_REQUIRED',
          message: 'This field is required',
        });
      }
      embedTotal += field.name.length + field.value.length;
    });
    embedTotal +=
      (embed.title?.length ?? 0) +
      (embed.description?.length ?? 0) +
      (embed.footer?.text.length ?? 0) +
      (embed.author?.name.length ?? 0);
  });
  if (embedTotal > 6000) problems.push(tooLong(['embeds'], 6000));
  const components = body.components ?? [];
  if (!componentsV2 && components.length > 5) problems.push(tooLong(['components'], 5));
  components.forEach((component, index) => componentProblems(problems, ['components', index], component, !componentsV2));
  return problems;
}

function componentProblems(
  problems: FormProblem[],
  path: (string | number)[],
  component: Component,
  topLevelMustBeRow: boolean,
): void {
  if (topLevelMustBeRow && component.type !== ACTION_ROW) {
    problems.push({ path: [...path, 'type'], code: 'UNION_TYPE_CHOICES', message: 'Value of field "type" must be one of (1,).' });
  }
  if (component.type === ACTION_ROW && (component.components?.length ?? 0) > 5) {
    problems.push(tooLong([...path, 'components'], 5));
  }
  if (component.type === BUTTON) {
    checkLength(problems, [...path, 'label'], component.label, 80);
    if (component.style !== 5 && component.style !== 6 && !component.custom_id) {
      problems.push({ path: [...path, 'custom_id'], code: 'BASE_TYPE_REQUIRED', message: 'This field is required' });
    }
  }
  checkLength(problems, [...path, 'custom_id'], component.custom_id, 100);
  component.components?.forEach((child, index) => componentProblems(problems, [...path, 'components', index], child, false));
  if (component.component) componentProblems(problems, [...path, 'component'], component.component, false);
}

/** True when Discord would call the message empty. */
export function isEmptyMessage(body: {
  content?: string | null | undefined;
  embeds?: unknown[] | null | undefined;
  components?: unknown[] | null | undefined;
  attachments?: unknown[] | null | undefined;
}): boolean {
  return (
    !body.content &&
    (body.embeds?.length ?? 0) === 0 &&
    (body.components?.length ?? 0) === 0 &&
    (body.attachments?.length ?? 0) === 0
  );
}

export function modalProblems(modal: Modal): FormProblem[] {
  const problems: FormProblem[] = [];
  checkLength(problems, ['data', 'custom_id'], modal.custom_id, 100);
  checkLength(problems, ['data', 'title'], modal.title, 45);
  if (modal.components.length < 1 || modal.components.length > 5) {
    problems.push({ path: ['data', 'components'], code: 'BASE_TYPE_BAD_LENGTH', message: 'Must be between 1 and 5 in length.' });
  }
  modal.components.forEach((component, index) => {
    const path = ['data', 'components', index];
    if (component.type === ACTION_ROW) {
      const inputs = component.components ?? [];
      if (inputs.length !== 1 || inputs[0]?.type !== TEXT_INPUT) {
        problems.push({ path, code: 'COMPONENT_LAYOUT_WIDTH_EXCEEDED', message: 'An action row in a modal holds exactly one text input.' });
      }
      inputs.forEach((input, inputIndex) => textInputProblems(problems, [...path, 'components', inputIndex], input, true));
    } else if (component.type === LABEL) {
      checkLength(problems, [...path, 'label'], component.label, 45);
      if (!component.component) {
        problems.push({ path: [...path, 'component'], code: 'BASE_TYPE_REQUIRED', message: 'This field is required' });
      } else if (component.component.type === TEXT_INPUT) {
        textInputProblems(problems, [...path, 'component'], component.component, false);
      }
    } else if (component.type !== TEXT_DISPLAY) {
      problems.push({ path: [...path, 'type'], code: 'UNION_TYPE_CHOICES', message: 'Value of field "type" must be one of (1, 10, 18).' });
    }
  });
  return problems;
}

function textInputProblems(problems: FormProblem[], path: (string | number)[], input: Component, needsLabel: boolean) {
  if (!input.custom_id) problems.push({ path: [...path, 'custom_id'], code: 'BASE_TYPE_REQUIRED', message: 'This field is required' });
  if (needsLabel && !input.label) problems.push({ path: [...path, 'label'], code: 'BASE_TYPE_REQUIRED', message: 'This field is required' });
  checkLength(problems, [...path, 'label'], input.label, 45);
  checkLength(problems, [...path, 'placeholder'], input.placeholder, 100);
  checkLength(problems, [...path, 'value'], input.value, 4000);
}

export function choiceProblems(choices: AutocompleteChoice[]): FormProblem[] {
  const problems: FormProblem[] = [];
  if (choices.length > 25) problems.push(tooLong(['data', 'choices'], 25));
  choices.forEach((choice, index) => {
    if (choice.name.length < 1 || choice.name.length > 100) {
      problems.push({ path: ['data', 'choices', index, 'name'], code: 'BASE_TYPE_BAD_LENGTH', message: 'Must be between 1 and 100 in length.' });
    }
    if (typeof choice.value === 'string') checkLength(problems, ['data', 'choices', index, 'value'], choice.value, 100);
  });
  return problems;
}

/** Problems with a bulk command registration (PUT). */
export function commandsProblems(commands: CommandDefinition[]): FormProblem[] {
  const problems: FormProblem[] = [];
  if (commands.length > 100) problems.push(tooLong([], 100));
  const seen = new Set<string>();
  commands.forEach((command, index) => {
    const type = command.type ?? 1;
    const key = `${type}:${command.name}`;
    if (seen.has(key)) {
      problems.push({ path: [index, 'name'], code: 'APPLICATION_COMMANDS_DUPLICATE_NAME', message: `Application command names must be unique` });
    }
    seen.add(key);
    if (type === 1) {
      nameProblems(problems, [index, 'name'], command.name);
      descriptionProblems(problems, [index, 'description'], command.description);
      optionsProblems(problems, [index, 'options'], command.options ?? []);
    }
  });
  return problems;
}

function nameProblems(problems: FormProblem[], path: (string | number)[], name: string) {
  if (!COMMAND_NAME.test(name) || name !== name.toLowerCase()) {
    problems.push({ path, code: 'APPLICATION_COMMAND_INVALID_NAME', message: `Command name is invalid` });
  }
}

function descriptionProblems(problems: FormProblem[], path: (string | number)[], description: string | undefined) {
  if (!description || description.length > 100) {
    problems.push({ path, code: 'BASE_TYPE_BAD_LENGTH', message: 'Must be between 1 and 100 in length.' });
  }
}

function optionsProblems(problems: FormProblem[], path: (string | number)[], options: CommandOptionDefinition[]) {
  if (options.length > 25) problems.push(tooLong(path, 25));
  let optionalSeen = false;
  options.forEach((option, index) => {
    nameProblems(problems, [...path, index, 'name'], option.name);
    descriptionProblems(problems, [...path, index, 'description'], option.description);
    if (option.required && optionalSeen) {
      problems.push({
        path: [...path, index, 'required'],
        code: 'APPLICATION_COMMAND_OPTIONS_REQUIRED_INVALID',
        message: 'Required options must be placed before non-required options',
      });
    }
    if (!option.required && option.type !== 1 && option.type !== 2) optionalSeen = true;
    if ((option.choices?.length ?? 0) > 25) problems.push(tooLong([...path, index, 'choices'], 25));
    if (option.autocomplete && (option.choices?.length ?? 0) > 0) {
      problems.push({
        path: [...path, index, 'autocomplete'],
        code: 'APPLICATION_COMMAND_OPTION_AUTOCOMPLETE_AND_CHOICES',
        message: 'Autocomplete cannot be enabled on options that have choices',
      });
    }
    if (option.options) optionsProblems(problems, [...path, index, 'options'], option.options);
  });
}
