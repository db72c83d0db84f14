export * from './catalogue.js';
export * from './errors.js';
export { BUILT_IN_PRICES, type PriceTable, type ProviderPrices } from './prices.js';
export { INSTANCE_SPECS, type InstanceSpec } from './instance-specs.js';
