/**
 * Contact-force limits per body region, in the style of ISO/TS 15066:2016 power-and-force limiting: each
 * region the robot may touch has a permissible quasi-static force (a clamping contact that lasts) and a
 * transient one (a short impact the body can recoil from). The table is configuration: a field's risk
 * assessment replaces or extends it, and a scene maps what the robot touches onto its regions.
 */

export interface ContactRegionLimit {
  /** Region name, used in events and in the scene's contact map ('hand_finger', 'environment', ...). */
  readonly name: string;
  /** Permissible force while the contact lasts longer than the transient window (N). */
  readonly quasiStaticN: number;
  /** Permissible force within the transient window after the contact began (N). */
  readonly transientN: number;
}

// ISO/TS 15066:2016 Annex A, Table A.2: maximum permissible quasi-static forces per body region. Transient
// contact may reach twice the quasi-static value (Annex A.3), except at the head (skull, forehead, face),
// where the specification gives no transient allowance.
const QUASI_STATIC_N: ReadonlyArray<readonly [string, number, boolean]> = [
  ['skull_forehead', 130, false],
  ['face', 65, false],
  ['neck', 150, true],
  ['back_shoulders', 210, true],
  ['chest', 140, true],
  ['abdomen', 110, true],
  ['pelvis', 180, true],
  ['upper_arm_elbow', 150, true],
  ['lower_arm_wrist', 160, true],
  ['hand_finger', 140, true],
  ['thigh_knee', 220, true],
  ['lower_leg', 130, true],
];

/** The human body regions of ISO/TS 15066 Table A.2 with their force limits. */
export const ISO_TS_15066_REGIONS: readonly ContactRegionLimit[] = QUASI_STATIC_N.map(
  ([name, quasiStaticN, transientAllowed]) => ({
    name,
    quasiStaticN,
    transientN: transientAllowed ? 2 * quasiStaticN : quasiStaticN,
  }),
);

/** The region for everything that is not a person: the robot's own envelope (`safety.maxContactForceN`). */
export const ENVIRONMENT_REGION = 'environment';

export function environmentRegion(maxContactForceN: number): ContactRegionLimit {
  return { name: ENVIRONMENT_REGION, quasiStaticN: maxContactForceN, transientN: maxContactForceN };
}
