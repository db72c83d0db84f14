/**
 * The advisor's rules: pure functions of one deployment, the price catalogue and what the guild already runs. Each
 * returns advice (never a refusal): the member decides. The figures come from the catalogue, so an operator's
 * PRICING_OVERRIDES_FILE moves them too.
 */
import type { Provider, ResourceType } from '../db/schema.js';
import type { PriceCatalogue } from '../pricing/catalogue.js';
import { join, money, strong, text, type Text } from '../shared/text.js';
import { geographyOf } from './geography.js';

export type AdviceRule = 'cheaper_instance' | 'oversized_disk' | 'distant_region' | 'model_review';

export interface Advice {
  rule: AdviceRule;
  text: Text;
}

/** What the rules look at: the deployment asked for, and the guild around it. */
export interface AdviceSubject {
  provider: Provider;
  resourceType: ResourceType;
  instanceType?: string | undefined;
  diskSizeGb?: number | undefined;
  /** The project's region: every resource of a project is deployed there. */
  region: string;
  /** The guild's other live projects. */
  otherProjects: ReadonlyArray<{ name: string; provider: Provider; region: string }>;
  /** Disk sizes of the guild's live virtual machines (any project). */
  guildVmDiskSizesGb: readonly number[];
}

/** Disks up to this size are never called oversized: they cost a few dollars whatever the machine. */
export const DISK_FLOOR_GB = 100;
/** A disk this many times the guild's median VM disk is unusual for this guild. */
export const GUILD_DISK_FACTOR = 4;
/** The guild's median means something only over this many VMs. */
export const GUILD_DISK_MIN_SAMPLE = 3;

/** A cheaper type with the same vCPUs and memory; a dedicated-core type is first compared with dedicated ones. */
export function cheaperInstance(subject: AdviceSubject, catalogue: PriceCatalogue): Advice | undefined {
  if (subject.resourceType !== 'vm' || !subject.instanceType) return undefined;
  const current = catalogue.instanceOffer(subject.provider, subject.instanceType);
  if (!current?.spec) return undefined;
  const { vcpu, memoryGib, burstable } = current.spec;
  const cheaper = catalogue
    .instanceOffers(subject.provider)
    .filter((o) => o.spec?.vcpu === vcpu && o.spec.memoryGib === memoryGib && o.monthlyUsd < current.monthlyUsd)
    .sort((a, b) => a.monthlyUsd - b.monthlyUsd);
  const likeForLike = cheaper.filter((o) => o.spec?.burstable === burstable);
  const best = likeForLike[0] ?? cheaper[0];
  if (!best) return undefined;
  const caveat = best.spec?.burstable && !burstable ? text` It is burstable: fine for light or spiky load, slower under sustained CPU.` : undefined;
  return {
    rule: 'cheaper_instance',
    text: text`${strong(best.instanceType)} has the same ${vcpu} vCPU and ${memoryGib} GiB as ${subject.instanceType} for ${money(best.monthlyUsd)}/month instead of ${money(current.monthlyUsd)} (saves ${money(current.monthlyUsd - best.monthlyUsd)}/month).${caveat}`,
  };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? (sorted[middle] ?? 0) : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

/** A VM disk above DISK_FLOOR_GB that costs more than the machine itself, or dwarfs the guild's usual VM disk. */
export function oversizedDisk(subject: AdviceSubject, catalogue: PriceCatalogue): Advice | undefined {
  const disk = subject.diskSizeGb;
  if (subject.resourceType !== 'vm' || disk === undefined || disk <= DISK_FLOOR_GB) return undefined;
  const diskUsd = disk * catalogue.diskPerGbMonthUsd(subject.provider);
  const reasons: Text[] = [];
  const machine = subject.instanceType ? catalogue.instanceOffer(subject.provider, subject.instanceType) : undefined;
  if (machine && diskUsd > machine.monthlyUsd) {
    reasons.push(text`it costs ${money(diskUsd)}/month, more than the ${machine.instanceType} itself (${money(machine.monthlyUsd)}/month)`);
  }
  const sample = subject.guildVmDiskSizesGb.filter((size) => size > 0);
  if (sample.length >= GUILD_DISK_MIN_SAMPLE) {
    const typical = median(sample);
    if (disk > GUILD_DISK_FACTOR * typical) {
      reasons.push(text`it is over ${GUILD_DISK_FACTOR}× this server's typical VM disk (${typical} GB, the median of ${sample.length} VMs)`);
    }
  }
  if (reasons.length === 0) return undefined;
  return {
    rule: 'oversized_disk',
    text: text`The ${disk} GB disk looks oversized: ${join(reasons, '; ')}. Check the size; data that does not need a disk is cheaper in a bucket.`,
  };
}

/** This project's region on another continent than every other project of the guild. */
export function distantRegion(subject: AdviceSubject): Advice | undefined {
  const here = geographyOf(subject.provider, subject.region);
  if (!here) return undefined;
  const located = subject.otherProjects.flatMap((p) => {
    const geography = geographyOf(p.provider, p.region);
    return geography ? [{ ...p, geography }] : [];
  });
  if (located.length === 0 || located.some((p) => p.geography === here)) return undefined;
  const elsewhere = [...new Set(located.map((p) => p.geography))];
  const names = located.slice(0, 3).map((p) => p.name);
  const more = located.length > names.length ? text` and ${located.length - names.length} more` : undefined;
  return {
    rule: 'distant_region',
    text: text`This project's region ${subject.region} is in ${here}; this server's other projects are in ${elsewhere.join(', ')} (${names.join(', ')}${more}). If they talk to each other, expect cross-continent latency and inter-region egress charges.`,
  };
}

/** Every rule's advice for one deployment, in a fixed order. */
export function adviseByRules(subject: AdviceSubject, catalogue: PriceCatalogue): Advice[] {
  return [cheaperInstance(subject, catalogue), oversizedDisk(subject, catalogue), distantRegion(subject)].filter((advice): advice is Advice => advice !== undefined);
}
