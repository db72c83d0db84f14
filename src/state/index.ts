export * from './layout.js';
export * from './backend.js';
export * from './errors.js';
export * from '../shared/snowflake.js';
export * from './workspace-guard.js';
