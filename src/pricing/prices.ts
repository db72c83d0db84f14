/**
 * The built-in price list. APPROXIMATE public on-demand list prices, written down from the providers' public pricing
 * pages (Linux, pay-as-you-go, no discounts, 730 hours a month) for one reference region each. They are estimates
 * for guardrails, not quotes: real bills differ by region, discounts, licences, egress and taxes.
 * Operators can correct or extend them with PRICING_OVERRIDES_FILE (see catalogue.ts).
 */
import type { Provider } from '../db/schema.js';

export interface ProviderPrices {
  /** Where the figures were read and for which region. */
  readonly source: string;
  /** When they were written down (YYYY-MM). */
  readonly asOf: string;
  /** Instance type → USD per month (hourly on-demand × 730). */
  readonly instances: Readonly<Record<string, number>>;
  /** Block storage, USD per GB-month. */
  readonly diskPerGbMonthUsd: number;
  /** Object storage bucket: a flat monthly allowance plus storage per GB-month. */
  readonly bucket: { readonly baseMonthlyUsd: number; readonly perGbMonthUsd: number };
  /**
   * Other Terraform resource types a plan may hold, at a flat USD per month: 0 for those the provider does not charge
   * for on their own (networks, network interfaces, resource groups). Read when the cost of a plan is estimated.
   */
  readonly resources: Readonly<Record<string, number>>;
}

export type PriceTable = Readonly<Record<Provider, ProviderPrices>>;

export const BUILT_IN_PRICES: PriceTable = {
  gcp: {
    source: 'cloud.google.com/compute/vm-instance-pricing, us-central1, on-demand; pd-balanced disk; GCS Standard',
    asOf: '2025-06',
    instances: {
      'e2-micro': 6.11,
      'e2-small': 12.23,
      'e2-medium': 24.46,
      'e2-standard-2': 48.92,
      'e2-standard-4': 97.84,
      'e2-standard-8': 195.67,
      'n1-standard-1': 34.67,
      'n1-standard-2': 69.35,
      'n1-standard-4': 138.7,
      'n1-standard-8': 277.4,
      'n1-standard-16': 554.8,
      'n1-standard-32': 1109.6,
      'n2-standard-2': 70.9,
      'n2-standard-4': 141.81,
      'n2-standard-8': 283.62,
    },
    diskPerGbMonthUsd: 0.1,
    // No fixed fee exists; the base is a small allowance for operations and egress so a bucket is never "free".
    bucket: { baseMonthlyUsd: 1, perGbMonthUsd: 0.02 },
    resources: {
      google_compute_network: 0,
      google_compute_subnetwork: 0,
      google_compute_firewall: 0,
      // An external IPv4 address, $0.005/hour (cloud.google.com/vpc/network-pricing).
      google_compute_address: 3.65,
    },
  },
  aws: {
    source: 'aws.amazon.com/ec2/pricing/on-demand, us-east-1, Linux; EBS gp3; S3 Standard',
    asOf: '2025-06',
    instances: {
      't3.micro': 7.59,
      't3.small': 15.18,
      't3.medium': 30.37,
      't3.large': 60.74,
      't3.xlarge': 121.47,
      't3.2xlarge': 242.94,
      'm5.large': 70.08,
      'm5.xlarge': 140.16,
      'm5.2xlarge': 280.32,
      'c5.large': 62.05,
      'c5.xlarge': 124.1,
      'r5.large': 91.98,
    },
    diskPerGbMonthUsd: 0.08,
    bucket: { baseMonthlyUsd: 1, perGbMonthUsd: 0.023 },
    resources: {
      aws_vpc: 0,
      aws_subnet: 0,
      aws_security_group: 0,
      aws_internet_gateway: 0,
      aws_route_table: 0,
      aws_key_pair: 0,
      // Settings of a bucket, billed with the bucket.
      aws_s3_bucket_versioning: 0,
      aws_s3_bucket_public_access_block: 0,
      aws_s3_bucket_server_side_encryption_configuration: 0,
      // A public IPv4 address, $0.005/hour (aws.amazon.com/vpc/pricing).
      aws_eip: 3.65,
    },
  },
  azure: {
    source: 'azure.microsoft.com/pricing/details/virtual-machines/linux, East US, pay-as-you-go; Standard SSD; Blob Hot LRS',
    asOf: '2025-06',
    instances: {
      Standard_B1s: 7.59,
      Standard_B1ms: 15.11,
      Standard_B2s: 30.37,
      Standard_B2ms: 60.74,
      Standard_D2s_v5: 70.08,
      Standard_D4s_v5: 140.16,
      Standard_D8s_v5: 280.32,
      Standard_F2s_v2: 61.76,
    },
    // Standard SSD is sold in size tiers; this is the tier price divided by its size, roughly.
    diskPerGbMonthUsd: 0.075,
    bucket: { baseMonthlyUsd: 1, perGbMonthUsd: 0.0184 },
    resources: {
      azurerm_resource_group: 0,
      azurerm_virtual_network: 0,
      azurerm_subnet: 0,
      azurerm_network_interface: 0,
      azurerm_network_security_group: 0,
      // Billed with its storage account.
      azurerm_storage_container: 0,
      // A Standard static public IP, $0.005/hour (azure.microsoft.com/pricing/details/ip-addresses).
      azurerm_public_ip: 3.65,
    },
  },
};

/**
 * Resource types that create nothing a cloud bills: values and keys computed by the engine itself (`terraform_data`,
 * `null_resource`, the random, tls and time providers). Free whichever provider the project uses.
 */
export const NO_CHARGE_RESOURCE_TYPES: readonly string[] = ['terraform_data', 'null_resource'];
export const NO_CHARGE_RESOURCE_PREFIXES: readonly string[] = ['random_', 'tls_', 'time_'];
