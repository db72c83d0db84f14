/** The console's `/help`: every command in one line per form, or one command with each option described. */
import type { Command } from '../interaction/command.js';
import { usageLines } from './command-line.js';

export function helpText(commands: readonly Command[], topic: string | undefined): string {
  if (topic) {
    const command = commands.find((c) => c.name === topic.replace(/^\//, '').toLowerCase());
    if (!command) return `There is no command \`/${topic.replace(/^\//, '')}\`. Type /help for the list.`;
    const lines = [`/${command.name} — ${command.definition.description}${adminMark(command)}`];
    for (const form of usageLines(command.definition)) {
      lines.push(`  ${form.line}`, `      ${form.description}`);
      // Each option as Discord describes it next to the box a member types in.
      for (const option of form.options) lines.push(`        ${option.name}: ${option.description}`);
    }
    return lines.join('\n');
  }
  const lines = ['Commands (type them as in Discord; Tab completes names, options and values):'];
  for (const command of commands) {
    lines.push(`  /${command.name} — ${command.definition.description}${adminMark(command)}`);
    for (const form of usageLines(command.definition)) lines.push(`      ${form.line}`);
  }
  lines.push(
    'Console:',
    '  /help [command]         this list, or one command in detail',
    '  /as NAME [--admin|--member] [--dms-closed|--dms-open]   act as another member of the console server',
    '  /members                who is in the console server',
    '  1, 2, …  or  "1 as NAME" press a button of the latest message that offers some',
    '  /quit                   leave (Ctrl-D works too)',
  );
  return lines.join('\n');
}

function adminMark(command: Command): string {
  return command.adminOnly && !/\badmin/i.test(command.definition.description) ? ' (admins)' : '';
}
