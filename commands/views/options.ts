import { z } from 'zod';
import { JIT_PROVIDERS, PERMISSION_LEVELS, PROVIDERS, RESOURCE_TYPES } from '../../src/db/schema.js';
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
