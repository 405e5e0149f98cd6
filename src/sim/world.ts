/**
 * The seeded generator lives in ./rng.ts; the pick-and-place world became a scene plus a task
 * (./scenes/pick-place.ts, ./tasks/pick-place.ts) run in a SceneWorld. This path stays for importers.
 */
export { type Rng, seededRng } from './rng.ts';
