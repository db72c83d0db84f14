export * from './project-repository.js';
export * from './resource-repository.js';
export * from './errors.js';
export * from './regions.js';
export * from './resource-statuses.js';
