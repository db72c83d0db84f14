import { z } from 'zod';

/**
 * The shapes the bot sends to Discord, validated at the server's boundary. Objects are loose: Discord accepts (and the
 * bot may send) fields this server does not interpret, and they are kept so tests can look at them.
 */

/** A message component as the bot sends it (action row, button, select, text input, label, text display...). */
export interface Component {
  type: number;
  id?: number | undefined;
  custom_id?: string | undefined;
  label?: string | null | undefined;
  style?: number | undefined;
  disabled?: boolean | undefined;
  url?: string | undefined;
  placeholder?: string | undefined;
  value?: string | undefined;
  required?: boolean | undefined;
  min_length?: number | undefined;
  max_length?: number | undefined;
  content?: string | undefined;
  components?: Component[] | undefined;
  component?: Component | undefined;
  [key: string]: unknown;
}

export const componentSchema: z.ZodType<Component> = z.lazy(() =>
  z.looseObject({
    type: z.number().int(),
    id: z.number().int().optional(),
    custom_id: z.string().optional(),
    label: z.string().nullish(),
    style: z.number().int().optional(),
    disabled: z.boolean().optional(),
    url: z.string().optional(),
    placeholder: z.string().optional(),
    value: z.string().optional(),
    required: z.boolean().optional(),
    min_length: z.number().int().optional(),
    max_length: z.number().int().optional(),
    content: z.string().optional(),
    components: z.array(componentSchema).optional(),
    component: componentSchema.optional(),
  }),
);

export const embedSchema = z.looseObject({
  title: z.string().nullish(),
  description: z.string().nullish(),
  url: z.string().nullish(),
  color: z.number().int().nullish(),
  timestamp: z.string().nullish(),
  fields: z
    .array(z.looseObject({ name: z.string(), value: z.string(), inline: z.boolean().nullish() }))
    .nullish(),
  footer: z.looseObject({ text: z.string() }).nullish(),
  author: z.looseObject({ name: z.string() }).nullish(),
});
export type Embed = z.infer<typeof embedSchema>;

export const messageBodySchema = z.looseObject({
  content: z.string().nullish(),
  embeds: z.array(embedSchema).nullish(),
  components: z.array(componentSchema).nullish(),
  flags: z.number().int().nullish(),
  attachments: z.array(z.looseObject({ id: z.union([z.string(), z.number()]) })).nullish(),
  tts: z.boolean().nullish(),
});
export type MessageBody = z.infer<typeof messageBodySchema>;

export const autocompleteChoiceSchema = z.looseObject({
  name: z.string(),
  value: z.union([z.string(), z.number()]),
});
export type AutocompleteChoice = z.infer<typeof autocompleteChoiceSchema>;

export const modalSchema = z.looseObject({
  custom_id: z.string(),
  title: z.string(),
  components: z.array(componentSchema),
});
export type Modal = z.infer<typeof modalSchema>;

export const callbackEnvelopeSchema = z.looseObject({
  type: z.number().int(),
  data: z.record(z.string(), z.unknown()).nullish(),
});

export const deferredDataSchema = z.looseObject({ flags: z.number().int().nullish() });
export const autocompleteDataSchema = z.looseObject({ choices: z.array(autocompleteChoiceSchema) });

export const createDmSchema = z.looseObject({ recipient_id: z.string() });

export interface CommandOptionDefinition {
  type: number;
  name: string;
  description?: string | undefined;
  required?: boolean | undefined;
  autocomplete?: boolean | undefined;
  choices?: { name: string; value: string | number }[] | undefined;
  options?: CommandOptionDefinition[] | undefined;
  [key: string]: unknown;
}

export const commandOptionSchema: z.ZodType<CommandOptionDefinition> = z.lazy(() =>
  z.looseObject({
    type: z.number().int().min(1).max(11),
    name: z.string(),
    description: z.string().optional(),
    required: z.boolean().optional(),
    autocomplete: z.boolean().optional(),
    choices: z.array(z.looseObject({ name: z.string(), value: z.union([z.string(), z.number()]) })).optional(),
    options: z.array(commandOptionSchema).optional(),
  }),
);

export const commandDefinitionSchema = z.looseObject({
  name: z.string(),
  description: z.string().optional(),
  type: z.number().int().min(1).max(4).optional(),
  options: z.array(commandOptionSchema).optional(),
  default_member_permissions: z.string().nullish(),
  dm_permission: z.boolean().nullish(),
  contexts: z.array(z.number().int()).nullish(),
  integration_types: z.array(z.number().int()).nullish(),
  nsfw: z.boolean().optional(),
});
export type CommandDefinition = z.infer<typeof commandDefinitionSchema>;

/** A command as stored after registration: what the bot sent plus the fields Discord adds. */
export type RegisteredCommand = CommandDefinition & {
  id: string;
  application_id: string;
  guild_id?: string;
  type: number;
  description: string;
  version: string;
  default_member_permissions: string | null;
};

export const identifySchema = z.looseObject({
  token: z.string(),
  intents: z.number().int(),
  shard: z.tuple([z.number().int(), z.number().int()]).optional(),
  compress: z.boolean().optional(),
  properties: z.record(z.string(), z.unknown()).optional(),
});

export const requestGuildMembersSchema = z.looseObject({
  guild_id: z.string(),
  query: z.string().optional(),
  user_ids: z.union([z.string(), z.array(z.string())]).optional(),
  limit: z.number().int().optional(),
  nonce: z.string().optional(),
});

export const gatewayFrameSchema = z.looseObject({
  op: z.number().int(),
  d: z.unknown(),
});
