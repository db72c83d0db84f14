import type { AppContext } from '../../src/app/context.js';
import type { AutocompleteRequest, Choice } from '../../src/interaction/conversation.js';
import { completeStoredCredentials } from './credentials.js';
import { findProject } from './projects.js';

function matches(text: string, typed: string): boolean {
  return text.toLowerCase().includes(typed.toLowerCase());
}

/** Discord shows at most 25 choices. */
const MAX_CHOICES = 25;

export async function completeProjects(app: AppContext, request: AutocompleteRequest): Promise<Choice[]> {
  return (await app.projects.search(request.guildId, request.focused.value, MAX_CHOICES)).map((p) => ({ name: `${p.name} (${p.provider}, ${p.region})`, value: p.name }));
}

/** The policy's allowed list when it has one, else the price catalogue for the chosen project's provider. */
export async function completeInstanceTypes(app: AppContext, request: AutocompleteRequest): Promise<Choice[]> {
  const projectName = typeof request.options.project === 'string' ? request.options.project : '';
  const project = projectName ? await findProject(app, request.guildId, projectName) : undefined;
  const providers = project ? [project.provider] : (['gcp', 'aws', 'azure'] as const);
  const allowed = (await app.policies.get(request.guildId)).allowedInstanceTypes;
  const types = providers.flatMap((provider) =>
    app.pricing
      .instanceTypes(provider)
      .filter((type) => allowed.length === 0 || allowed.includes(type))
      .map((type) => ({ type, provider })),
  );
  return types
    .filter(({ type }) => matches(type, request.focused.value))
    .map(({ type, provider }) => {
      const monthly = app.pricing.estimate({ provider, resourceType: 'vm', instanceType: type }).monthlyUsd;
      return { name: `${type} (${provider}, about $${monthly.toFixed(2)}/month)`, value: type };
    });
}

/** The templates this guild can deploy (its own, the operator's it enabled, the built-ins), by name or description. */
export async function completeTemplates(app: AppContext, request: AutocompleteRequest): Promise<Choice[]> {
  return (await app.templates.list(request.guildId))
    .filter((t) => matches(t.name, request.focused.value) || matches(t.description ?? '', request.focused.value))
    .map((t) => ({ name: t.description ? `${t.name} — ${t.description}` : t.name, value: t.name }));
}

export async function completeCredentials(app: AppContext, request: AutocompleteRequest): Promise<Choice[]> {
  const fixed = [
    { name: 'session (the project’s vault session)', value: 'session' },
    { name: 'service (the bot’s own, if allowed)', value: 'service' },
  ];
  const typedFixed = fixed.filter((c) => matches(c.name, request.focused.value));
  return [...typedFixed, ...(await completeStoredCredentials(app, request))];
}
