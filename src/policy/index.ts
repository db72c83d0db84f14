export * from './policy-service.js';
export * from './errors.js';
export * from './plan-policy.js';
export * from './planned-resources.js';
