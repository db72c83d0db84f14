/** One builder per engine command: typed options in, argv out, nothing else (nothing is spawned here). */
export { initArgs, type InitOptions } from './init.js';
export { planArgs, type PlanOptions } from './plan.js';
export { showArgs, type ShowOptions } from './show.js';
export { applyArgs, refreshStateArgs, type ApplyOptions } from './apply.js';
export { destroyArgs, type DestroyOptions } from './destroy.js';
export { outputArgs, type OutputOptions } from './output.js';
export { versionArgs, type VersionOptions } from './version.js';
