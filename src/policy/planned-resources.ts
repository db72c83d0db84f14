/**
 * What a plan will make, read from `show -json <plan file>` for any module, as the guild's policy checks it: every
 * managed resource the plan creates, replaces, updates or keeps, with its Terraform type, its category (`vm`,
 * `bucket` or none), its instance type and its disks. Deletions and data sources make nothing and are left out.
 *
 * Values are read from `change.after`; one Terraform knows only at apply is marked in `change.after_unknown` and is
 * reported as unknown, never guessed, except a boot disk the module gave no size: that disk takes its image's size,
 * assumed to be the provider's default image's (see DEFAULT_BOOT_DISK_GB). A sensitive instance type
 * (`after_sensitive`) is read for the checks but flagged, so nobody shows it.
 */
import { z } from 'zod';
import type { Provider } from '../db/schema.js';
import { PlanJsonInvalid } from '../engine/plan-summary.js';
import { MIN_BOOT_DISK_GB } from '../projects/boot-disk.js';
import { PlanConfiguration, type AttributePath } from './plan-configuration.js';

export type ResourceCategory = 'vm' | 'bucket';
export type PlannedAction = 'create' | 'replace' | 'update' | 'no-op';

/** A value of the plan: known (and whether it is sensitive), or known only after apply. */
export type PlannedValue<T> = { state: 'known'; value: T; sensitive: boolean } | { state: 'unknown' };

export type DiskRole = 'boot' | 'data' | 'scratch' | 'standalone';

export interface PlannedDisk {
  role: DiskRole;
  /** Null when the size is known only after apply. */
  sizeGb: number | null;
  /** `plan`: as planned; `default`: the module sets none, so the image's size (assumed); `unknown`: after apply. */
  source: 'plan' | 'default' | 'unknown';
}

export interface PlannedResource {
  address: string;
  terraformType: string;
  action: PlannedAction;
  category: ResourceCategory | null;
  /** Made only to serve a VM or a bucket (a network, a key, a resource group): not held to the allowed types. */
  supporting: boolean;
  /** The cloud it belongs to (from its provider, `registry.terraform.io/hashicorp/google` → gcp), or null. */
  provider: Provider | null;
  /** Null for a type without an instance type. */
  instanceType: PlannedValue<string> | null;
  disks: PlannedDisk[];
}

/** The most resource changes read from one plan: far above any real module, low enough to bound the work. */
export const MAX_PLANNED_RESOURCES = 20_000;
/** The most disks read from one block list of one resource. */
const MAX_DISKS_PER_LIST = 128;
/** A local SSD scratch disk on GCP is always this size. */
const GCP_SCRATCH_DISK_GB = 375;

/** Boot disk size of a VM whose module sets none: its image's, assumed the default images' (src/projects/boot-disk.ts). */
export const DEFAULT_BOOT_DISK_GB = {
  google_compute_instance: MIN_BOOT_DISK_GB.gcp,
  aws_instance: MIN_BOOT_DISK_GB.aws,
  azurerm_linux_virtual_machine: MIN_BOOT_DISK_GB.azure,
  azurerm_virtual_machine: MIN_BOOT_DISK_GB.azure,
  // Azure's Windows Server images have 127 GB OS disks.
  azurerm_windows_virtual_machine: 127,
} as const;

const PROVIDERS_BY_NAME: Readonly<Record<string, Provider>> = { google: 'gcp', 'google-beta': 'gcp', aws: 'aws', azurerm: 'azure' };

/** Networks, addresses, keys, groups and settings that exist only to serve a VM or bucket. */
const SUPPORTING_TYPES: ReadonlySet<string> = new Set([
  'terraform_data', 'null_resource',
  'google_compute_network', 'google_compute_subnetwork', 'google_compute_firewall', 'google_compute_address',
  'aws_vpc', 'aws_subnet', 'aws_security_group', 'aws_internet_gateway', 'aws_route_table', 'aws_key_pair', 'aws_eip',
  'aws_s3_bucket_versioning', 'aws_s3_bucket_public_access_block', 'aws_s3_bucket_server_side_encryption_configuration',
  'azurerm_resource_group', 'azurerm_virtual_network', 'azurerm_subnet', 'azurerm_network_interface',
  'azurerm_network_security_group', 'azurerm_public_ip',
  // A container lives in a storage account (a bucket) and is billed with it.
  'azurerm_storage_container',
]);
const SUPPORTING_PREFIXES = ['random_', 'tls_', 'time_'];

const ACTIONS: Readonly<Record<string, PlannedAction | null>> = {
  create: 'create',
  'delete,create': 'replace',
  'create,delete': 'replace',
  update: 'update',
  'no-op': 'no-op',
  delete: null,
  read: null,
};

const planSchema = z.object({
  resource_changes: z
    .array(
      z.object({
        address: z.string().max(1024),
        module_address: z.string().max(1024).optional(),
        mode: z.enum(['managed', 'data']).optional(),
        type: z.string().max(256),
        name: z.string().max(256),
        provider_name: z.string().max(512).optional(),
        change: z.object({
          actions: z.array(z.string().max(16)).min(1).max(2),
          after: z.unknown().optional(),
          after_unknown: z.unknown().optional(),
          after_sensitive: z.unknown().optional(),
        }),
      }),
    )
    .max(MAX_PLANNED_RESOURCES, `more than ${MAX_PLANNED_RESOURCES} resource changes`)
    .default([]),
});

type ResourceChange = z.infer<typeof planSchema>['resource_changes'][number];

/** The planned resources of a `show -json` document (already JSON-parsed). @throws PlanJsonInvalid. */
export function readPlannedResources(planJson: unknown): PlannedResource[] {
  const parsed = planSchema.safeParse(planJson);
  if (!parsed.success) throw new PlanJsonInvalid(parsed.error.issues[0]?.message ?? 'unreadable');
  const configuration = PlanConfiguration.of(planJson);
  const planned: PlannedResource[] = [];
  for (const change of parsed.data.resource_changes) {
    if ((change.mode ?? 'managed') !== 'managed') continue;
    const key = change.change.actions.join(',');
    const action = Object.hasOwn(ACTIONS, key) ? ACTIONS[key] : undefined;
    if (action === undefined) throw new PlanJsonInvalid(`unknown actions ${JSON.stringify(change.change.actions)} for ${change.address}`);
    if (action === null) continue;
    planned.push(describe(change, action, configuration));
  }
  return planned;
}

function describe(change: ResourceChange, action: PlannedAction, configuration: PlanConfiguration): PlannedResource {
  const type = change.type;
  const after = new Attribute(change.change.after, change.change.after_unknown, change.change.after_sensitive);
  const configured = (path: AttributePath) => configuration.sets(change.module_address, type, change.name, path);
  const reading = READERS[type];
  return {
    address: change.address,
    terraformType: type,
    action,
    category: reading?.category ?? null,
    supporting: SUPPORTING_TYPES.has(type) || SUPPORTING_PREFIXES.some((prefix) => type.startsWith(prefix)),
    provider: providerOf(change.provider_name, type),
    instanceType: reading?.instanceType ? after.at(reading.instanceType).text() : otherInstanceType(after),
    disks: reading?.disks?.(after, configured) ?? [],
  };
}

/** `registry.terraform.io/hashicorp/google` (or `registry.opentofu.org/…`) → gcp; the type's prefix otherwise. */
function providerOf(providerName: string | undefined, type: string): Provider | null {
  const name = providerName?.split('/').at(-1) ?? type.split('_')[0] ?? '';
  return Object.hasOwn(PROVIDERS_BY_NAME, name) ? (PROVIDERS_BY_NAME[name] ?? null) : null;
}

/** A type outside the table may still name an instance type (a launch or instance template): known values count. */
function otherInstanceType(after: Attribute): PlannedValue<string> | null {
  for (const name of ['machine_type', 'instance_type', 'vm_size']) {
    const value = after.at(name).text();
    if (value.state === 'known') return value;
  }
  return null;
}

type Configured = (path: AttributePath) => boolean | undefined;

interface Reading {
  category?: ResourceCategory;
  instanceType?: string;
  disks?: (after: Attribute, configured: Configured) => PlannedDisk[];
}

const READERS: Readonly<Record<string, Reading>> = {
  google_compute_instance: {
    category: 'vm',
    instanceType: 'machine_type',
    disks: (after, configured) => {
      const boot = after.at('boot_disk').at(0);
      // A boot disk attached by `source` is a disk of its own (google_compute_disk), checked there.
      const attached = boot.at('source').text();
      const size = boot.at('initialize_params').at(0).at('size');
      const disks =
        attached.state === 'known' && attached.value !== ''
          ? []
          : [bootDisk(size, ['boot_disk', 0, 'initialize_params', 0, 'size'], DEFAULT_BOOT_DISK_GB.google_compute_instance, configured)];
      for (const scratch of after.at('scratch_disk').items()) disks.push(sizedDisk('scratch', scratch.at('size'), GCP_SCRATCH_DISK_GB));
      return disks;
    },
  },
  aws_instance: {
    category: 'vm',
    instanceType: 'instance_type',
    disks: (after, configured) => [
      bootDisk(after.at('root_block_device').at(0).at('volume_size'), ['root_block_device', 0, 'volume_size'], DEFAULT_BOOT_DISK_GB.aws_instance, configured),
      ...after.at('ebs_block_device').items().map((ebs) => sizedDisk('data', ebs.at('volume_size'))),
    ],
  },
  azurerm_linux_virtual_machine: { category: 'vm', instanceType: 'size', disks: azureOsDisk(DEFAULT_BOOT_DISK_GB.azurerm_linux_virtual_machine) },
  azurerm_windows_virtual_machine: { category: 'vm', instanceType: 'size', disks: azureOsDisk(DEFAULT_BOOT_DISK_GB.azurerm_windows_virtual_machine) },
  azurerm_virtual_machine: {
    category: 'vm',
    instanceType: 'vm_size',
    disks: (after, configured) => [
      bootDisk(after.at('storage_os_disk').at(0).at('disk_size_gb'), ['storage_os_disk', 0, 'disk_size_gb'], DEFAULT_BOOT_DISK_GB.azurerm_virtual_machine, configured),
      ...after.at('storage_data_disk').items().map((disk) => sizedDisk('data', disk.at('disk_size_gb'))),
    ],
  },
  google_storage_bucket: { category: 'bucket' },
  aws_s3_bucket: { category: 'bucket' },
  azurerm_storage_account: { category: 'bucket' },
  azurerm_storage_container: { category: 'bucket' },
  google_compute_disk: { disks: (after) => [sizedDisk('standalone', after.at('size'))] },
  google_compute_region_disk: { disks: (after) => [sizedDisk('standalone', after.at('size'))] },
  aws_ebs_volume: { disks: (after) => [sizedDisk('standalone', after.at('size'))] },
  azurerm_managed_disk: { disks: (after) => [sizedDisk('standalone', after.at('disk_size_gb'))] },
};

function azureOsDisk(defaultGb: number): Reading['disks'] {
  return (after, configured) => [bootDisk(after.at('os_disk').at(0).at('disk_size_gb'), ['os_disk', 0, 'disk_size_gb'], defaultGb, configured)];
}

/** A boot disk takes its image's size when the module sets none; unknown only when the module sets it from later. */
function bootDisk(size: Attribute, path: AttributePath, defaultGb: number, configured: Configured): PlannedDisk {
  const value = size.number();
  if (value.state === 'known') return { role: 'boot', sizeGb: value.value, source: 'plan' };
  if (!size.unknown || configured(path) === false) return { role: 'boot', sizeGb: defaultGb, source: 'default' };
  return { role: 'boot', sizeGb: null, source: 'unknown' };
}

/** A disk whose size is planned, fixed by the provider (`fixedGb`), or otherwise unknown until apply. */
function sizedDisk(role: DiskRole, size: Attribute, fixedGb?: number): PlannedDisk {
  const value = size.number();
  if (value.state === 'known') return { role, sizeGb: value.value, source: 'plan' };
  if (fixedGb !== undefined && !size.unknown) return { role, sizeGb: fixedGb, source: 'default' };
  return { role, sizeGb: null, source: 'unknown' };
}

/** One attribute of `change.after`, walked together with its marks in `after_unknown` and `after_sensitive`. */
class Attribute {
  constructor(
    private readonly value: unknown,
    private readonly unknownMark: unknown,
    private readonly sensitiveMark: unknown,
  ) {}

  /** A part of this attribute; everything inside an unknown or sensitive value is unknown or sensitive too. */
  at(key: string | number): Attribute {
    const mark = (node: unknown) => (node === true ? true : child(node, key));
    return new Attribute(child(this.value, key), mark(this.unknownMark), mark(this.sensitiveMark));
  }

  /** Known only after apply (the attribute itself, or a block that holds it). */
  get unknown(): boolean {
    return this.unknownMark === true;
  }

  /** The elements of a list or block list, known or not. */
  items(): Attribute[] {
    const length = Math.min(MAX_DISKS_PER_LIST, Math.max(lengthOf(this.value), lengthOf(this.unknownMark)));
    return Array.from({ length }, (_, index) => this.at(index));
  }

  text(): PlannedValue<string> {
    if (typeof this.value === 'string' && !this.unknown) return { state: 'known', value: this.value, sensitive: this.sensitiveMark === true };
    return { state: 'unknown' };
  }

  /** A number as planned; null and absent values (not set) come back unknown too, with `unknown` false. */
  number(): PlannedValue<number> {
    if (typeof this.value === 'number' && Number.isFinite(this.value) && this.value >= 0 && !this.unknown) {
      return { state: 'known', value: this.value, sensitive: this.sensitiveMark === true };
    }
    return { state: 'unknown' };
  }
}

function child(node: unknown, key: string | number): unknown {
  if (typeof key === 'number') return Array.isArray(node) ? node[key] : undefined;
  if (node === null || typeof node !== 'object' || Array.isArray(node)) return undefined;
  return Object.hasOwn(node, key) ? (node as Record<string, unknown>)[key] : undefined;
}

function lengthOf(node: unknown): number {
  return Array.isArray(node) ? node.length : 0;
}
