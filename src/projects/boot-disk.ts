/**
 * Boot disk sizes a VM can have, per provider, for the images the generated configuration boots
 * (src/engine/config-generator.ts): a disk smaller than its image is refused by the provider only at apply.
 *   gcp   debian-cloud/debian-12: a 10 GB image.
 *   aws   Debian 12 AMI (owner 136693071363): an 8 GB root snapshot.
 *   azure Debian debian-12 12-gen2: a 30 GB OS disk image.
 * Checked by /cloud-deploy before anything is planned, and by the generator again for rows written otherwise.
 */
import type { Provider, ResourceType } from '../db/schema.js';
import { UserError } from '../shared/errors.js';
import { withArticle } from '../shared/article.js';

export const MIN_BOOT_DISK_GB: Readonly<Record<Provider, number>> = { gcp: 10, aws: 8, azure: 30 };
export const MAX_BOOT_DISK_GB = 65_536;

/** The size used when a deployment names none: 20 GB, or the image's own size where that is larger. */
export function defaultBootDiskGb(provider: Provider): number {
  return Math.max(20, MIN_BOOT_DISK_GB[provider]);
}

/** Why a VM of this provider cannot have this boot disk, or undefined when it can. */
export function bootDiskProblem(provider: Provider, sizeGb: number): string | undefined {
  const min = MIN_BOOT_DISK_GB[provider];
  if (!Number.isSafeInteger(sizeGb) || sizeGb < min || sizeGb > MAX_BOOT_DISK_GB) {
    return `${withArticle(provider.toUpperCase())} virtual machine's boot disk must be ${min} to ${MAX_BOOT_DISK_GB} GB (its image needs ${min} GB), not ${sizeGb} GB`;
  }
  return undefined;
}

export class InvalidBootDisk extends UserError {
  constructor(problem: string) {
    super('resources.invalid_boot_disk', `That disk size cannot be used: ${problem}. Choose a larger \`disk_size\`, or leave it out for the default.`);
  }
}

/** Refuses a VM disk size the provider would refuse at apply; buckets (expected storage) are not boot disks. */
export function assertBootDiskSize(provider: Provider, resourceType: ResourceType, sizeGb: number | undefined): void {
  if (resourceType !== 'vm' || sizeGb === undefined) return;
  const problem = bootDiskProblem(provider, sizeGb);
  if (problem !== undefined) throw new InvalidBootDisk(problem);
}
