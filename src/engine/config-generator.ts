/**
 * The project's Terraform configuration as Terraform JSON syntax (`main.tf.json`), built as plain objects and
 * serialised with JSON.stringify: no HCL is ever assembled from strings, so no input can add configuration.
 *
 * One caveat of JSON syntax: string values are templates, so `${...}` inside one is evaluated. Every value that
 * comes from a person (names, region, instance type) is therefore validated against a strict alphabet that cannot
 * contain `$`, `%` or `{`; names that appear in the cloud are derived from ids and a hash, not from input.
 */
import { createHash } from 'node:crypto';
import type { Project, Resource } from '../projects/index.js';
import { bootDiskProblem, defaultBootDiskGb } from '../projects/boot-disk.js';
import { isInstanceTypeName } from '../shared/instance-type.js';
import { UnsupportedResource } from './errors.js';

export const MAIN_CONFIG_FILE = 'main.tf.json';

/** Terraform JSON document: nested objects, arrays and scalars. */
export type TfJson = { [key: string]: TfValue };
export type TfValue = string | number | boolean | null | TfValue[] | TfJson;

export interface GeneratedConfig {
  document: TfJson;
  /** Resource row id → every managed address created for it (what a targeted destroy of that row must cover). */
  addressesByResource: Map<number, string[]>;
}

export type ProjectForConfig = Pick<Project, 'id' | 'guildId' | 'slug' | 'provider' | 'region'>;
/** A built-in resource: a template deployment has a folder and configuration of its own, never generated here. */
export type ResourceForConfig = Pick<Resource, 'id' | 'name' | 'instanceType' | 'diskSizeGb'> & { resourceType: NonNullable<Resource['resourceType']> };

const REGION = /^[a-z]{2,}[a-z0-9-]{0,38}[a-z0-9]$/;
const TAG_UNSAFE = /[^A-Za-z0-9 ._-]/g;

const PROVIDER_REQUIREMENTS: Record<ProjectForConfig['provider'], TfJson> = {
  gcp: { google: { source: 'hashicorp/google', version: '~> 6.0' } },
  aws: { aws: { source: 'hashicorp/aws', version: '~> 5.0' } },
  azure: { azurerm: { source: 'hashicorp/azurerm', version: '~> 4.0' }, tls: { source: 'hashicorp/tls', version: '~> 4.0' } },
};

/** The configuration for `project` holding `resources` (the caller decides which rows belong in it). */
export function generateConfig(project: ProjectForConfig, resources: readonly ResourceForConfig[]): GeneratedConfig {
  const region = project.region.trim();
  if (!REGION.test(region)) throw new UnsupportedResource(`"${tagSafe(region)}" is not a valid region name (lowercase letters, digits and dashes)`);
  const builder = new Builder(project, region);
  for (const resource of [...resources].sort((a, b) => a.id - b.id)) builder.add(validated(project.provider, resource));
  return builder.finish();
}

function validated(provider: ProjectForConfig['provider'], resource: ResourceForConfig): ResourceForConfig {
  if (!Number.isSafeInteger(resource.id) || resource.id <= 0) throw new TypeError('resource id must be a positive integer');
  if (resource.resourceType === 'vm') {
    if (!resource.instanceType || !isInstanceTypeName(resource.instanceType)) {
      throw new UnsupportedResource(`"${tagSafe(resource.instanceType ?? '')}" is not a valid instance type`);
    }
    const problem = bootDiskProblem(provider, resource.diskSizeGb ?? defaultBootDiskGb(provider));
    if (problem !== undefined) throw new UnsupportedResource(problem);
  }
  return resource;
}

/** Short stable hash so cloud-wide names (buckets, storage accounts) are unique-ish without exposing ids in full. */
function shortHash(...parts: Array<string | number>): string {
  return createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 10);
}

/** A slug reduced to [a-z0-9-], trimmed of dashes, at most `max` characters (may be empty). */
function nameSafe(slug: string, max: number): string {
  return slug
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/-+/g, '-')
    .slice(0, max)
    .replace(/^-+|-+$/g, '');
}

/** A person's text reduced to characters that are inert in a template and accepted by every provider's tags. */
function tagSafe(text: string): string {
  return text.replace(TAG_UNSAFE, '-').slice(0, 63);
}

class Builder {
  private readonly resources: Record<string, Record<string, TfJson>> = {};
  private readonly data: Record<string, Record<string, TfJson>> = {};
  private readonly outputs: Record<string, TfJson> = {};
  private readonly addresses = new Map<number, string[]>();
  private hasVm = false;
  private hasAny = false;

  constructor(
    private readonly project: ProjectForConfig,
    private readonly region: string,
  ) {}

  add(resource: ResourceForConfig): void {
    this.hasAny = true;
    if (resource.resourceType === 'vm') this.hasVm = true;
    const label = `${resource.resourceType}_${resource.id}`;
    switch (this.project.provider) {
      case 'gcp':
        return resource.resourceType === 'vm' ? this.gcpVm(label, resource) : this.gcpBucket(label, resource);
      case 'aws':
        return resource.resourceType === 'vm' ? this.awsVm(label, resource) : this.awsBucket(label, resource);
      case 'azure':
        return resource.resourceType === 'vm' ? this.azureVm(label, resource) : this.azureStorage(label, resource);
    }
  }

  finish(): GeneratedConfig {
    const document: TfJson = { terraform: { required_providers: PROVIDER_REQUIREMENTS[this.project.provider] } };
    Object.assign(document, this.providerBlocks());
    if (this.project.provider === 'azure' && this.hasAny) this.azureShared();
    if (this.project.provider === 'aws' && this.hasVm) {
      // Debian's official AMIs (owner: Debian, account 136693071363), newest first: no AMI id per region to maintain.
      this.data.aws_ami = {
        debian: {
          most_recent: true,
          owners: ['136693071363'],
          filter: [
            { name: 'name', values: ['debian-12-amd64-*'] },
            { name: 'architecture', values: ['x86_64'] },
          ],
        },
      };
    }
    if (Object.keys(this.data).length > 0) document.data = this.data;
    if (Object.keys(this.resources).length > 0) document.resource = this.resources;
    if (Object.keys(this.outputs).length > 0) document.output = this.outputs;
    return { document, addressesByResource: this.addresses };
  }

  private providerBlocks(): TfJson {
    switch (this.project.provider) {
      case 'gcp':
        return {
          // The GCP project id is a secret here (seed 003): it comes only from TF_VAR_project_id in the child's env.
          variable: { project_id: { type: 'string', sensitive: true, description: 'GCP project id, from the vault via TF_VAR_project_id' } },
          provider: { google: { project: '${var.project_id}', region: this.region, default_labels: this.gcpLabels() } },
        };
      case 'aws':
        return { provider: { aws: { region: this.region, default_tags: [{ tags: this.tags() }] } } };
      case 'azure':
        return { provider: { azurerm: { features: [{}] }, tls: {} } };
    }
  }

  private tags(): TfJson {
    return { managed_by: 'cloud-chatops', guild: this.project.guildId, project: tagSafe(this.project.slug) };
  }

  private gcpLabels(): TfJson {
    return { managed_by: 'cloud-chatops', guild: this.project.guildId, project: nameSafe(this.project.slug, 63) || 'project' };
  }

  private put(type: string, label: string, body: TfJson, resourceId?: number): string {
    (this.resources[type] ??= {})[label] = body;
    const address = `${type}.${label}`;
    if (resourceId !== undefined) this.addresses.set(resourceId, [...(this.addresses.get(resourceId) ?? []), address]);
    return address;
  }

  private output(name: string, value: string, description: string): void {
    this.outputs[name] = { value, description };
  }

  /** A name for the cloud console: `cc-<slug>-<kind>-<id>`, lowercase, starts with a letter. */
  private cloudName(kind: string, id: number, max: number): string {
    const suffix = `-${kind}-${id}`;
    const slug = nameSafe(this.project.slug, Math.max(0, max - 3 - suffix.length));
    return `cc${slug ? `-${slug}` : ''}${suffix}`;
  }

  /** Globally unique-ish bucket name: 3–63 chars of [a-z0-9-], no dots (valid for both S3 and GCS). */
  private bucketName(id: number): string {
    const hash = shortHash(this.project.guildId, this.project.id, id);
    const tail = `-${id}-${hash}`;
    const slug = nameSafe(this.project.slug, 63 - 2 - tail.length - 1);
    return `cc${slug ? `-${slug}` : ''}${tail}`;
  }

  private gcpVm(label: string, r: ResourceForConfig): void {
    const address = this.put(
      'google_compute_instance',
      label,
      {
        name: this.cloudName('vm', r.id, 63),
        machine_type: r.instanceType ?? '',
        // Simplification: the region's "-a" zone; every GCP region has one.
        zone: `${this.region}-a`,
        boot_disk: [{ initialize_params: [{ image: 'debian-cloud/debian-12', size: r.diskSizeGb ?? defaultBootDiskGb('gcp') }] }],
        network_interface: [{ network: 'default', access_config: [{}] }],
        labels: { resource: label.replace('_', '-'), name: nameSafe(r.name, 63) || 'vm' },
      },
      r.id,
    );
    this.output(`${label}_id`, `\${${address}.id}`, `id of ${tagSafe(r.name)}`);
    this.output(`${label}_ip`, `\${${address}.network_interface[0].access_config[0].nat_ip}`, `public IP of ${tagSafe(r.name)}`);
  }

  private gcpBucket(label: string, r: ResourceForConfig): void {
    const address = this.put(
      'google_storage_bucket',
      label,
      {
        name: this.bucketName(r.id),
        location: this.region.toUpperCase(),
        uniform_bucket_level_access: true,
        public_access_prevention: 'enforced',
        // Never delete objects on destroy: a non-empty bucket makes destroy fail instead of losing data.
        force_destroy: false,
        labels: { resource: label.replace('_', '-'), name: nameSafe(r.name, 63) || 'bucket' },
      },
      r.id,
    );
    this.output(`${label}_name`, `\${${address}.name}`, `name of ${tagSafe(r.name)}`);
    this.output(`${label}_url`, `\${${address}.url}`, `URL of ${tagSafe(r.name)}`);
  }

  private awsVm(label: string, r: ResourceForConfig): void {
    const address = this.put(
      'aws_instance',
      label,
      {
        ami: '${data.aws_ami.debian.id}',
        instance_type: r.instanceType ?? '',
        root_block_device: [{ volume_size: r.diskSizeGb ?? defaultBootDiskGb('aws'), volume_type: 'gp3', encrypted: true }],
        metadata_options: [{ http_tokens: 'required' }],
        tags: { Name: tagSafe(r.name) || label, resource: label },
      },
      r.id,
    );
    this.output(`${label}_id`, `\${${address}.id}`, `id of ${tagSafe(r.name)}`);
    this.output(`${label}_ip`, `\${${address}.public_ip}`, `public IP of ${tagSafe(r.name)}`);
  }

  private awsBucket(label: string, r: ResourceForConfig): void {
    const address = this.put(
      'aws_s3_bucket',
      label,
      { bucket: this.bucketName(r.id), force_destroy: false, tags: { Name: tagSafe(r.name) || label, resource: label } },
      r.id,
    );
    this.output(`${label}_name`, `\${${address}.bucket}`, `name of ${tagSafe(r.name)}`);
    this.output(`${label}_arn`, `\${${address}.arn}`, `ARN of ${tagSafe(r.name)}`);
  }

  /** One resource group per project, and one network when it has VMs; shared by the project's resources. */
  private azureShared(): void {
    this.put('azurerm_resource_group', 'project', {
      name: `cc-${this.project.guildId}-${nameSafe(this.project.slug, 40) || 'project'}`,
      location: this.region,
      tags: this.tags(),
    });
    if (!this.hasVm) return;
    this.put('azurerm_virtual_network', 'project', {
      name: 'cc-network',
      address_space: ['10.42.0.0/16'],
      location: '${azurerm_resource_group.project.location}',
      resource_group_name: '${azurerm_resource_group.project.name}',
    });
    this.put('azurerm_subnet', 'project', {
      name: 'cc-subnet',
      resource_group_name: '${azurerm_resource_group.project.name}',
      virtual_network_name: '${azurerm_virtual_network.project.name}',
      address_prefixes: ['10.42.1.0/24'],
    });
  }

  private azureVm(label: string, r: ResourceForConfig): void {
    const rg = { location: '${azurerm_resource_group.project.location}', resource_group_name: '${azurerm_resource_group.project.name}' };
    // Key-only login with a key the engine generates: no password ever appears in configuration. The private key
    // lives only in the state; an operator recovers access through Azure (serial console / VM access extension).
    const key = this.put('tls_private_key', label, { algorithm: 'ED25519' }, r.id);
    const ip = this.put('azurerm_public_ip', label, { name: this.cloudName('ip', r.id, 80), ...rg, allocation_method: 'Static', sku: 'Standard' }, r.id);
    const nic = this.put(
      'azurerm_network_interface',
      label,
      {
        name: this.cloudName('nic', r.id, 80),
        ...rg,
        ip_configuration: [
          { name: 'primary', subnet_id: '${azurerm_subnet.project.id}', private_ip_address_allocation: 'Dynamic', public_ip_address_id: `\${${ip}.id}` },
        ],
      },
      r.id,
    );
    const vm = this.put(
      'azurerm_linux_virtual_machine',
      label,
      {
        name: this.cloudName('vm', r.id, 64),
        ...rg,
        size: r.instanceType ?? '',
        admin_username: 'chatops',
        disable_password_authentication: true,
        network_interface_ids: [`\${${nic}.id}`],
        admin_ssh_key: [{ username: 'chatops', public_key: `\${${key}.public_key_openssh}` }],
        os_disk: [{ caching: 'ReadWrite', storage_account_type: 'Standard_LRS', disk_size_gb: r.diskSizeGb ?? defaultBootDiskGb('azure') }],
        source_image_reference: [{ publisher: 'Debian', offer: 'debian-12', sku: '12-gen2', version: 'latest' }],
        tags: { ...this.tags(), name: tagSafe(r.name) || label },
      },
      r.id,
    );
    this.output(`${label}_id`, `\${${vm}.id}`, `id of ${tagSafe(r.name)}`);
    this.output(`${label}_ip`, `\${${ip}.ip_address}`, `public IP of ${tagSafe(r.name)}`);
  }

  private azureStorage(label: string, r: ResourceForConfig): void {
    // Storage account names: 3–24 lowercase letters and digits, unique across Azure.
    const accountName = `cc${shortHash(this.project.guildId, this.project.id, r.id)}${r.id}`.slice(0, 24);
    const account = this.put(
      'azurerm_storage_account',
      label,
      {
        name: accountName,
        location: '${azurerm_resource_group.project.location}',
        resource_group_name: '${azurerm_resource_group.project.name}',
        account_tier: 'Standard',
        account_replication_type: 'LRS',
        min_tls_version: 'TLS1_2',
        allow_nested_items_to_be_public: false,
        tags: { ...this.tags(), name: tagSafe(r.name) || label },
      },
      r.id,
    );
    this.put('azurerm_storage_container', label, { name: 'data', storage_account_id: `\${${account}.id}`, container_access_type: 'private' }, r.id);
    this.output(`${label}_name`, `\${${account}.name}`, `storage account of ${tagSafe(r.name)}`);
    this.output(`${label}_endpoint`, `\${${account}.primary_blob_endpoint}`, `blob endpoint of ${tagSafe(r.name)}`);
  }
}
