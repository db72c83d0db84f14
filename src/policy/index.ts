export * from './policy-service.js';
export * from './errors.js';
