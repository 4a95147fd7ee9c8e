// What the fire core's callers import: one module, so that the bundle keeps the core in one
// chunk whichever caller (trig fire, the git hooks) loads it first.

export { checkEvent } from '../catalog/events.js';
export { checkWorkdir, definitionPlaces, fire, type FireDeps, type FireOptions, type FireOutcome, type FireRequest } from './fire.js';
export { fireExitCode } from './exit.js';
export { openStore, openStoreIfAny, settleLost, thisProcess } from './record.js';
export { presentFire, type PresentOptions, type Presenter } from './present.js';
