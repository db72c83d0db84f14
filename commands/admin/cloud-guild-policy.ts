import { ChannelType, InteractionContextType, SlashCommandBuilder } from 'discord.js';
import { z } from 'zod';
import { ENGINES, UNPRICED_POLICIES } from '../../src/db/schema.js';
import { defineCommand } from '../../src/interaction/command.js';
import { UserError } from '../../src/shared/errors.js';
import { requirePolicyUpdate, type PolicyField } from '../../src/policy/policy-access.js';
import { channel, text } from '../../src/shared/text.js';
import { ttlOptionSchema, type TtlTyped } from '../../src/ttl/ttl-duration.js';
import { policyChangeView, policyView } from '../views/policy.js';

/** `none` clears a TTL setting (null); a length sets it in minutes. */
const ttlSetting = (typed: TtlTyped | undefined) => (typed === undefined ? undefined : typed === 'none' ? null : typed);

/** "a, b ,c" → ['a','b','c']; "none" or "all" → [] (everything allowed). */
const commaList = z
  .string()
  .transform((text) => (/^\s*(all|none|\*)\s*$/i.test(text) ? [] : text.split(',').map((s) => s.trim()).filter(Boolean)));

export default defineCommand({
  data: new SlashCommandBuilder()
    .setName('cloud-guild-policy')
    // Open to every member: anyone may view; who may update is checked at the moment of the update (policy-access.ts).
    .setDescription('View this server’s deployment guardrails (anyone), or update them (admins)')
    .setContexts(InteractionContextType.Guild)
    .addStringOption((o) =>
      o.setName('action').setDescription('View or update').setRequired(true).addChoices({ name: 'view', value: 'view' }, { name: 'update', value: 'update' }),
    )
    .addNumberOption((o) => o.setName('max_budget').setDescription('Monthly budget in USD').setMinValue(0))
    .addIntegerOption((o) => o.setName('max_instances').setDescription('Max running instances').setMinValue(0))
    .addIntegerOption((o) => o.setName('max_disk').setDescription('Max disk per instance, GB').setMinValue(1))
    .addStringOption((o) =>
      o.setName('engine').setDescription('Preferred IaC engine').addChoices(...ENGINES.map((e) => ({ name: e, value: e }))),
    )
    .addBooleanOption((o) => o.setName('require_approval').setDescription('Deployments need an admin’s approval'))
    .addStringOption((o) =>
      o.setName('allowed_instance_types').setDescription('Comma-separated, or "all"').setMaxLength(1000),
    )
    .addStringOption((o) =>
      o.setName('allowed_resource_types').setDescription('Comma-separated: vm, bucket or Terraform types (aws_instance), or "all"').setMaxLength(2000),
    )
    .addStringOption((o) =>
      o
        .setName('unpriced_resources')
        .setDescription('Plans with resources that cannot be estimated')
        .addChoices(...UNPRICED_POLICIES.map((value) => ({ name: value.replace('_', ' '), value }))),
    )
    .addIntegerOption((o) => o.setName('max_jit_minutes').setDescription('Longest JIT grant, minutes').setMinValue(1))
    .addIntegerOption((o) =>
      o.setName('jit_self_extend_minutes').setDescription('Minutes members may add to their own grant unreviewed (0 = off)').setMinValue(0),
    )
    .addStringOption((o) => o.setName('default_ttl').setDescription('Time to live of deployments that give none: 4h, 3d… or none').setMaxLength(32))
    .addStringOption((o) => o.setName('max_ttl').setDescription('Longest time to live of a deployment: 4h, 3d… or none (no limit)').setMaxLength(32))
    .addChannelOption((o) =>
      o.setName('notification_channel').setDescription('Where notices go when a DM cannot be delivered').addChannelTypes(ChannelType.GuildText),
    )
    .addBooleanOption((o) => o.setName('clear_notification_channel').setDescription('Stop using a notification channel')),
  options: z.object({
    action: z.enum(['view', 'update']),
    max_budget: z.number().optional(),
    max_instances: z.number().int().optional(),
    max_disk: z.number().int().optional(),
    engine: z.enum(ENGINES).optional(),
    require_approval: z.boolean().optional(),
    allowed_instance_types: commaList.optional(),
    allowed_resource_types: commaList.optional(),
    unpriced_resources: z.enum(UNPRICED_POLICIES).optional(),
    max_jit_minutes: z.number().int().optional(),
    jit_self_extend_minutes: z.number().int().optional(),
    default_ttl: ttlOptionSchema.optional(),
    max_ttl: ttlOptionSchema.optional(),
    notification_channel: z.string().optional(),
    clear_notification_channel: z.boolean().optional(),
  }),

  async execute({ conversation, options, app }) {
    const { guildId, actor } = conversation;
    if (options.action === 'view') {
      // A value typed with action:view changes nothing: say so rather than let it look accepted.
      const ignored = Object.keys(options).filter((name) => name !== 'action');
      await conversation.reply(policyView(await app.policies.get(guildId), ignored));
      return;
    }
    const patch = {
      maxBudgetMonthly: options.max_budget,
      maxInstances: options.max_instances,
      maxDiskSizeGb: options.max_disk,
      enginePreference: options.engine,
      requireApproval: options.require_approval,
      allowedInstanceTypes: options.allowed_instance_types,
      allowedResourceTypes: options.allowed_resource_types,
      unpricedResources: options.unpriced_resources,
      maxJitMinutes: options.max_jit_minutes,
      jitSelfExtendMinutes: options.jit_self_extend_minutes,
      defaultTtlMinutes: ttlSetting(options.default_ttl),
      maxTtlMinutes: ttlSetting(options.max_ttl),
      notificationChannelId: options.clear_notification_channel ? null : options.notification_channel,
    };
    const given = Object.fromEntries(Object.entries(patch).filter(([, value]) => value !== undefined));
    if (Object.keys(given).length === 0) {
      throw new UserError('policy.nothing_to_update', 'Give at least one value to change, e.g. `max_budget:2000` or `engine:tofu`.');
    }
    await requirePolicyUpdate(app, { guildId, member: actor, fields: Object.keys(given) as PolicyField[] });
    await app.tiers.requirePolicyWithin(guildId, { maxBudgetMonthly: options.max_budget, maxInstances: options.max_instances });
    if (options.notification_channel !== undefined && !(await app.notifier.channelInGuild(guildId, options.notification_channel))) {
      throw new UserError(
        'policy.unknown_channel',
        text`${channel(options.notification_channel)} is not a text channel of this server that the bot can see, so notices could not be posted there. Nothing was changed. Pick a text channel of this server, and give the bot View Channel and Send Messages in it.`,
      );
    }
    const { before, after } = await app.policies.update(guildId, given, actor.id);
    app.audit.record({ guildId, userId: actor.id, action: 'policy.update', outcome: 'success', details: { changed: Object.keys(given) } });
    await conversation.reply(policyChangeView(before, after));
  },
});
