import { z } from 'zod';
import { JIT_PROVIDERS, PERMISSION_LEVELS, PROVIDERS, RESOURCE_TYPES, type ResourceType } from '../../src/db/schema.js';
import { snowflakeSchema } from '../../src/shared/snowflake.js';

/** zod pieces for the option shapes several commands share; Discord already typed them, we still check. */
export const providerOption = z.enum(PROVIDERS, { error: `choose one of ${PROVIDERS.join(', ')}` });
export const jitProviderOption = z.enum(JIT_PROVIDERS, { error: `choose one of ${JIT_PROVIDERS.join(', ')}` });
export const levelOption = z.enum(PERMISSION_LEVELS, { error: `choose one of ${PERMISSION_LEVELS.join(', ')}` });
export const resourceTypeOption = z.enum(RESOURCE_TYPES, { error: `choose one of ${RESOURCE_TYPES.join(', ')}` });

export const userOption = z.object(
  { id: snowflakeSchema, displayName: z.string(), isBot: z.boolean() },
  { error: 'mention a member of this server' },
);

export const PROVIDER_CHOICES = [
  { name: 'Google Cloud (gcp)', value: 'gcp' },
  { name: 'Amazon Web Services (aws)', value: 'aws' },
  { name: 'Microsoft Azure (azure)', value: 'azure' },
] as const;

/** A JIT grant or request may cover one provider or all of them. */
export const JIT_PROVIDER_CHOICES = [...PROVIDER_CHOICES, { name: 'All providers', value: 'all' }] as const;

export const LEVEL_CHOICES = [
  { name: 'viewer — list and read', value: 'viewer' },
  { name: 'deployer — create and update', value: 'deployer' },
  { name: 'admin — full control', value: 'admin' },
] as const;

/** What /cloud-deploy deploys: a built-in (its options apply) or a template of the guild's catalogue (its form). */
export type DeployTarget = { kind: 'builtin'; resourceType: ResourceType } | { kind: 'template'; template: string };

interface DeployTargetOptions {
  template?: string | undefined;
  resource_type?: ResourceType | undefined;
  instance_type?: string | undefined;
  disk_size?: number | undefined;
  all_inputs?: boolean | undefined;
}

/**
 * `template` names what to deploy; `resource_type` is the older way to name a built-in (`template:vm` and
 * `resource_type:vm` are the same). The built-ins' options are refused for a template, and `all_inputs` for a
 * built-in, rather than silently ignored.
 */
export function deployTarget(options: DeployTargetOptions, ctx: z.RefinementCtx): DeployTarget {
  const refuse = (path: string, message: string): DeployTarget => {
    ctx.addIssue({ code: 'custom', path: [path], message });
    return z.NEVER;
  };
  const { template, resource_type: resourceType } = options;
  if (template === undefined && resourceType === undefined) return refuse('template', 'choose a template (or resource_type for the built-in vm or bucket)');
  const builtin = template === undefined ? resourceType : RESOURCE_TYPES.find((type) => type === template);
  if (builtin !== undefined) {
    if (resourceType !== undefined && resourceType !== builtin) return refuse('resource_type', `template:${builtin} and resource_type:${resourceType} disagree; give one of them`);
    if (options.all_inputs !== undefined) return refuse('all_inputs', `is for templates with inputs; ${builtin} takes instance_type and disk_size`);
    return { kind: 'builtin', resourceType: builtin };
  }
  for (const name of ['resource_type', 'instance_type', 'disk_size'] as const) {
    if (options[name] !== undefined) return refuse(name, `is only for the built-in vm and bucket; template ${template} asks for its inputs in a form`);
  }
  return { kind: 'template', template: template! };
}
