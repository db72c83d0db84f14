/** What /cloud-template shows: the templates a server can deploy, one template's inputs and pin, and each change. */
import type { AppContext } from '../../src/app/context.js';
import type { AutocompleteRequest, Choice, Message } from '../../src/interaction/conversation.js';
import type { Template, TemplateVariable } from '../../src/templates/template.js';
import type { Repinned, ShownTemplate, TemplateOverview } from '../../src/templates/template-service.js';
import { plain } from '../../src/shared/text.js';
import { code, command, join, member, strong, text, time, type Text } from './format.js';

/** Discord caps an embed description at 4096 characters, a field at 1024. */
const DESCRIPTION_LIMIT = 3900;

function sourceLabel(template: Template): string {
  if (template.source === 'builtin') return 'built-in';
  if (template.source === 'operator') return 'operator catalogue';
  return 'git';
}

function inputsCount(template: Template): string {
  const count = template.variables.length;
  return count === 1 ? '1 input' : `${count} inputs`;
}

/** A commit shortened as git does; a digest as its first characters. */
function shortRevision(revision: string | undefined): string {
  if (revision === undefined) return '—';
  return revision.startsWith('sha256:') ? `${revision.slice(0, 19)}…` : revision.slice(0, 12);
}

/** The ref as a member reads it: HEAD is the repository's default branch. */
function refText(ref: string | undefined): Text {
  return ref === undefined || ref === 'HEAD' ? text`the default branch` : text`ref ${code(ref)}`;
}

function line(template: Template): Text {
  const about = template.description ? text` — ${template.description.slice(0, 120)}` : undefined;
  const pin = template.source === 'builtin' ? undefined : text` · ${code(shortRevision(template.pinnedRevision))}`;
  return text`${strong(template.name)} (${sourceLabel(template)} · ${inputsCount(template)}${pin})${about}`;
}

export function templateListView(overview: TemplateOverview, isAdmin: boolean): Message {
  const parts: Text[] = [text`Deployable here:\n${join(overview.deployable.map((template) => text`• ${line(template)}`), '\n')}`];
  if (overview.available.length > 0) {
    const names = join(overview.available.map((template) => code(template.name)), ', ');
    parts.push(isAdmin ? text`From the operator’s catalogue, not enabled here: ${names}. Enable one with ${command('templates.enable')}.` : text`The operator’s catalogue also has ${names}; a server admin can enable them.`);
  }
  if (overview.dormant.length > 0) {
    parts.push(text`Kept but not deployable (the bot’s operator has turned templates from git off): ${join(overview.dormant.map((template) => code(template.name)), ', ')}.`);
  }
  parts.push(text`See a template’s inputs with ${command('templates.show')}.${isAdmin ? text` Add one from git with ${command('templates.add')}.` : undefined}`);
  return { ephemeral: true, notices: [{ title: '📦 Templates', description: join(parts, '\n\n') }] };
}

function defaultText(variable: TemplateVariable): Text {
  if (!variable.hasDefault) return text`required`;
  if (variable.sensitive) return text`default set (hidden)`;
  const shown = JSON.stringify(variable.defaultValue ?? null);
  return text`default ${code(shown.length > 60 ? `${shown.slice(0, 59)}…` : shown)}`;
}

export function inputLine(variable: TemplateVariable): Text {
  const flags = [variable.sensitive ? text`sensitive (asked privately)` : undefined, variable.nullable ? undefined : text`not null`];
  const about = variable.description ? text`\n  ${variable.description.slice(0, 200)}` : undefined;
  return text`• ${code(variable.name)}: ${code(variable.type)} · ${defaultText(variable)}${join(flags.map((flag) => (flag ? text` · ${flag}` : undefined)), '')}${about}`;
}

function inputsText(template: Template): Text {
  if (template.variables.length === 0) return text`No inputs.`;
  // Required ones first: those are what a member must type.
  const ordered = [...template.variables].sort((a, b) => Number(a.hasDefault) - Number(b.hasDefault));
  const lines: Text[] = [];
  let length = 0;
  for (const [index, variable] of ordered.entries()) {
    const rendered = inputLine(variable);
    length += plain(rendered).length + 1;
    if (length > DESCRIPTION_LIMIT) {
      lines.push(text`…and ${ordered.length - index} more.`);
      break;
    }
    lines.push(rendered);
  }
  return join(lines, '\n');
}

export function templateShowView({ template, enabled }: ShownTemplate): Message {
  const fields: Array<{ name: string; value: Text }> = [{ name: 'Source', value: text`${sourceLabel(template)}${enabled === undefined ? undefined : enabled ? text` (enabled here)` : text` (not enabled here)`}` }];
  if (template.source === 'git') {
    fields.push({ name: 'Repository', value: text`${code(template.gitUrl ?? '')}${template.gitSubdir ? text` folder ${code(template.gitSubdir)}` : undefined} · ${refText(template.gitRef)}` });
    fields.push({ name: 'Pinned commit', value: code(template.pinnedRevision ?? '') });
    fields.push({ name: 'Added', value: text`by ${member(template.createdBy)} ${time(template.createdAt)}${template.updatedAt !== template.createdAt ? text` · updated ${time(template.updatedAt)}` : undefined}` });
  } else if (template.source === 'operator') {
    fields.push({ name: 'Pinned files', value: code(template.pinnedRevision ?? '') });
  }
  const hint = enabled === false ? text`\n\nA server admin enables it with ${command('templates.enable', { name: template.name })}.` : undefined;
  return {
    ephemeral: true,
    notices: [{ title: text`📦 ${template.name}`, description: text`${template.description ? text`${template.description}\n\n` : undefined}${strong('Inputs')}\n${inputsText(template)}${hint}`, fields }],
  };
}

export function templateAddedView(template: Template): Message {
  return {
    ephemeral: true,
    notices: [
      {
        title: text`✅ Template ${template.name} added`,
        tone: 'success',
        description: text`Pinned to commit ${code(template.pinnedRevision ?? '')}: deploys use exactly this commit until ${command('templates.update', { name: template.name })}.\n\n${strong('Inputs')}\n${inputsText(template)}`,
      },
    ],
  };
}

export function templateUpdatedView({ before, after, changed }: Repinned): Message {
  if (!changed) {
    return { ephemeral: true, content: text`${strong(after.name)} is already at the commit ${refText(after.gitRef)} points to: ${code(after.pinnedRevision)}. Nothing changed.` };
  }
  const was = new Set(before.variables.map((variable) => variable.name));
  const now = new Set(after.variables.map((variable) => variable.name));
  const added = after.variables.filter((variable) => !was.has(variable.name)).map((variable) => code(variable.name));
  const removed = before.variables.filter((variable) => !now.has(variable.name)).map((variable) => code(variable.name));
  const changes = [added.length ? text`new inputs: ${join(added, ', ')}` : undefined, removed.length ? text`inputs gone: ${join(removed, ', ')}` : undefined];
  return {
    ephemeral: true,
    notices: [
      {
        title: text`✅ Template ${after.name} updated`,
        tone: 'success',
        description: text`Pinned to commit ${code(after.pinnedRevision)} (was ${code(shortRevision(before.pinnedRevision))}); the next deploys use it.${changes.some(Boolean) ? text`\n${join(changes, '; ')}.` : undefined}`,
      },
    ],
  };
}

export function templateRemovedView(template: Template): Message {
  return { ephemeral: true, content: text`🗑️ Template ${strong(template.name)} removed: it can no longer be deployed, and its stored files are erased.` };
}

export function templateToggledView(template: Template, enabled: boolean, changed: boolean): Message {
  if (!changed) return { ephemeral: true, content: text`${strong(template.name)} was already ${enabled ? 'enabled' : 'disabled'} here. Nothing changed.` };
  return {
    ephemeral: true,
    content: enabled ? text`✅ ${strong(template.name)} is enabled: members of this server can deploy it.` : text`${strong(template.name)} is disabled: members of this server can no longer deploy it.`,
  };
}

/** The names a subcommand can act on: what is enabled for `disable`, what is not for `enable`, the rest for others. */
export async function completeTemplateNames(app: AppContext, request: AutocompleteRequest): Promise<Choice[]> {
  const overview = await app.templateAdmin.overview(request.guildId);
  const subcommand = typeof request.options.subcommand === 'string' ? request.options.subcommand : '';
  const own = overview.deployable.filter((template) => template.source === 'git').concat(overview.dormant);
  const enabled = overview.deployable.filter((template) => template.source === 'operator');
  const candidates =
    subcommand === 'enable' ? overview.available
    : subcommand === 'disable' ? enabled
    : subcommand === 'update' || subcommand === 'remove' ? own
    : [...overview.deployable, ...overview.available];
  const typed = request.focused.value.toLowerCase();
  return candidates
    .filter((template) => template.name.includes(typed))
    .map((template) => ({ name: `${template.name} (${sourceLabel(template)}, ${inputsCount(template)})`, value: template.name }));
}
