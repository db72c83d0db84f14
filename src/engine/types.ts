import type { cloudProjects, cloudResources, iacRuns } from '../db/schema.js';

export type CloudProject = typeof cloudProjects.$inferSelect;
export type CloudResource = typeof cloudResources.$inferSelect;
export type IacRun = typeof iacRuns.$inferSelect;
