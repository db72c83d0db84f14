/**
 * Which part of the world a region is in, by a simple table of the providers' naming schemes (GCP `europe-west1`,
 * AWS `eu-west-1`, Azure `westeurope` or its display name `West Europe`). Coarse on purpose: the advisor only asks
 * whether two regions are on different continents, where latency (~100 ms and more) and inter-region egress start
 * to matter. A region no row matches is unknown, and the advisor says nothing about it.
 */
import type { Provider } from '../db/schema.js';

export const GEOGRAPHIES = ['North America', 'South America', 'Europe', 'Asia-Pacific', 'Middle East', 'Africa'] as const;
export type Geography = (typeof GEOGRAPHIES)[number];

type Row = readonly [pattern: RegExp, geography: Geography];

const BY_PROVIDER: Readonly<Record<Provider, readonly Row[]>> = {
  gcp: [
    [/^(us|northamerica)-/, 'North America'],
    [/^southamerica-/, 'South America'],
    [/^europe-/, 'Europe'],
    [/^(asia|australia)-/, 'Asia-Pacific'],
    [/^me-/, 'Middle East'],
    [/^africa-/, 'Africa'],
  ],
  aws: [
    [/^(us|ca|mx)-/, 'North America'],
    [/^sa-/, 'South America'],
    [/^eu-/, 'Europe'],
    [/^ap-/, 'Asia-Pacific'],
    [/^(me|il)-/, 'Middle East'],
    [/^af-/, 'Africa'],
  ],
  // Azure names are one word (`eastus2`, `uksouth`); display names with spaces are folded to the same form first.
  // Order matters: `southafricanorth` must be Africa before anything else matches, `brazilsouth` before `us`.
  azure: [
    [/^southafrica/, 'Africa'],
    [/^(brazil|chile)/, 'South America'],
    [/europe|^uk|^france|^germany|^norway|^switzerland|^sweden|^poland|^italy|^spain|^austria|^belgium|^denmark|^finland|^greece/, 'Europe'],
    [/asia|^japan|^korea|india$|^australia|^newzealand|^indonesia|^malaysia|^taiwan/, 'Asia-Pacific'],
    [/^uae|^qatar|^israel|^saudi/, 'Middle East'],
    [/^canada|^mexico|us\d*(euap)?$/, 'North America'],
  ],
};

/** The geography of a region, or undefined when the table does not know it. */
export function geographyOf(provider: Provider, region: string): Geography | undefined {
  const name = region.trim().toLowerCase().replace(/\s+/g, '');
  return BY_PROVIDER[provider].find(([pattern]) => pattern.test(name))?.[1];
}
