/**
 * What the spine reads back from the robot each tick, filled in place by the robot's sensor adapter
 * (src/control/spine/scene-port.ts for a simulated scene). The spine owns one; nothing here allocates.
 */
export class SpineFeedback {
  /** Time of the sample (s). The spine treats a sample older than its feedback timeout as a dropout. */
  stampSec = Number.NEGATIVE_INFINITY;
  /** Measured positions and velocities, canonical channel order. */
  readonly q: Float64Array;
  readonly qd: Float64Array;
  /** TCP positions in the robot's base frame, 3 per workspace site. */
  readonly tcp: Float64Array;
  /** Largest contact force per contact region this tick (N), in the spine's region order. */
  readonly contactForceN: Float64Array;

  constructor(channels: number, tcpSites: number, regions: number) {
    this.q = new Float64Array(channels);
    this.qd = new Float64Array(channels);
    this.tcp = new Float64Array(3 * tcpSites);
    this.contactForceN = new Float64Array(regions);
  }
}
