/**
 * vCPU and memory of the instance types the built-in price list knows, written down from the providers' public
 * machine-type pages (as of 2025-06). The advisor compares types by these figures; a type missing here (one an
 * operator's overrides file added) is simply never compared.
 *
 *   gcp:   cloud.google.com/compute/docs/general-purpose-machines (E2, N1, N2 machine series)
 *   aws:   aws.amazon.com/ec2/instance-types (T3, M5, C5, R5)
 *   azure: learn.microsoft.com/azure/virtual-machines/sizes (B-series, Dsv5, Fsv2)
 *
 * `burstable`: a shared-core or CPU-credit type (GCP e2-micro/small/medium, AWS T3, Azure B-series) that runs at a
 * fraction of its vCPUs except in bursts, so it is not a like-for-like replacement for a type with dedicated cores.
 */
import type { Provider } from '../db/schema.js';

export interface InstanceSpec {
  readonly vcpu: number;
  readonly memoryGib: number;
  readonly burstable: boolean;
}

function spec(vcpu: number, memoryGib: number, burstable = false): InstanceSpec {
  return { vcpu, memoryGib, burstable };
}

export const INSTANCE_SPECS: Readonly<Record<Provider, Readonly<Record<string, InstanceSpec>>>> = {
  gcp: {
    'e2-micro': spec(2, 1, true),
    'e2-small': spec(2, 2, true),
    'e2-medium': spec(2, 4, true),
    'e2-standard-2': spec(2, 8),
    'e2-standard-4': spec(4, 16),
    'e2-standard-8': spec(8, 32),
    'n1-standard-1': spec(1, 3.75),
    'n1-standard-2': spec(2, 7.5),
    'n1-standard-4': spec(4, 15),
    'n1-standard-8': spec(8, 30),
    'n1-standard-16': spec(16, 60),
    'n1-standard-32': spec(32, 120),
    'n2-standard-2': spec(2, 8),
    'n2-standard-4': spec(4, 16),
    'n2-standard-8': spec(8, 32),
  },
  aws: {
    't3.micro': spec(2, 1, true),
    't3.small': spec(2, 2, true),
    't3.medium': spec(2, 4, true),
    't3.large': spec(2, 8, true),
    't3.xlarge': spec(4, 16, true),
    't3.2xlarge': spec(8, 32, true),
    'm5.large': spec(2, 8),
    'm5.xlarge': spec(4, 16),
    'm5.2xlarge': spec(8, 32),
    'c5.large': spec(2, 4),
    'c5.xlarge': spec(4, 8),
    'r5.large': spec(2, 16),
  },
  azure: {
    Standard_B1s: spec(1, 1, true),
    Standard_B1ms: spec(1, 2, true),
    Standard_B2s: spec(2, 4, true),
    Standard_B2ms: spec(2, 8, true),
    Standard_D2s_v5: spec(2, 8),
    Standard_D4s_v5: spec(4, 16),
    Standard_D8s_v5: spec(8, 32),
    Standard_F2s_v2: spec(2, 4),
  },
};
