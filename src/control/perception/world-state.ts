/**
 * Allocation of a `WorldState` (src/control/contracts.ts): every array and every object/pad entry is created
 * here once; perception then updates them in place at its rate and nothing on the hot path allocates.
 */
import type { ObjectEstimate, TactileFeatures, WorldState } from '../contracts.ts';

export interface WorldStateShape {
  /** Canonical state length (arm joints, then grippers). */
  stateDim: number;
  /** Object names perception reports ('cube', 'bin', 'peg', ...). */
  objects?: readonly string[];
  /** Tactile pad names (the embodiment's sensor names, e.g. 'pad_left'). */
  pads?: readonly string[];
  /** Whether the robot has a wrist force/torque sensor. */
  wrench?: boolean;
}

/** A not-yet-seen object: identity pose, no stamp, not visible. */
export function emptyObjectEstimate(): ObjectEstimate {
  return {
    pos: new Float64Array(3),
    quat: Float64Array.of(1, 0, 0, 0),
    stampSec: Number.NaN,
    visible: false,
  };
}

/** A pad with no contact. */
export function emptyTactileFeatures(): TactileFeatures {
  return { contact: false, forceN: 0, centroid: Float64Array.of(0.5, 0.5), slipRate: 0 };
}

/** A world state with NaN joint vectors (nothing measured yet) and the given objects and pads. */
export function createWorldState(shape: WorldStateShape): WorldState {
  const nan = () => new Float64Array(shape.stateDim).fill(Number.NaN);
  return {
    tSec: 0,
    q: nan(),
    qd: nan(),
    tau: nan(),
    objects: new Map((shape.objects ?? []).map((n) => [n, emptyObjectEstimate()])),
    tactile: new Map((shape.pads ?? []).map((n) => [n, emptyTactileFeatures()])),
    ...(shape.wrench ? { wrench: new Float64Array(6) } : {}),
  };
}
