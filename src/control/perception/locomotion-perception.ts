/**
 * The humanoid's perception from its raw sensors (src/sim/sensors pipeline channels) into a WorldState:
 * joint positions/velocities/torques, `base` from the BaseEstimator (IMU + leg odometry), and the sole
 * wrenches as the `left_sole` / `right_sole` entries of `tactile` (load, centre of pressure, no slip
 * rate). Nothing of the simulator's true base state is read. Shared by the control stack
 * (src/control/stack) and the cerebellum's test rig.
 */
import type { Embodiment } from '../../embodiment/index.ts';
import { TgError } from '../../errors/index.ts';
import type { SensorChannel, SensorPipeline } from '../../sim/sensors/index.ts';
import type { TactileFeatures, WorldState } from '../contracts.ts';
import type { HumanoidModel } from '../humanoid-model.ts';
import { BaseEstimator } from './base-estimator.ts';

export class LocomotionPerception {
  readonly state: WorldState;
  readonly estimator: BaseEstimator;
  private readonly ch: SensorChannel[];
  private readonly pos: SensorChannel;
  private readonly vel: SensorChannel;
  private readonly torque: SensorChannel;
  private readonly imuCh: SensorChannel;
  private readonly touch: SensorChannel;
  private readonly wrench: [SensorChannel, SensorChannel];
  private readonly touchIndex: [number, number];
  private readonly soles: [TactileFeatures, TactileFeatures];
  private readonly imu = { acc: new Float64Array(3), gyro: new Float64Array(3), quat: new Float64Array(4) };

  constructor(
    private readonly model: HumanoidModel,
    embodiment: Embodiment,
    pipeline: SensorPipeline,
  ) {
    const ch = (n: string) => pipeline.channel(n);
    this.pos = ch('joint_pos');
    this.vel = ch('joint_vel');
    this.torque = ch('joint_torque');
    this.imuCh = ch('imu');
    this.touch = ch('touch');
    this.wrench = [ch('wrench.left_sole'), ch('wrench.right_sole')];
    this.ch = [this.pos, this.vel, this.torque, this.imuCh, this.touch, ...this.wrench];
    const touches = embodiment.sensors.filter((s) => s.type === 'touch').map((s) => s.name);
    this.touchIndex = [touches.indexOf('left_sole_touch'), touches.indexOf('right_sole_touch')];
    if (this.touchIndex[0] < 0 || this.touchIndex[1] < 0) {
      throw new TgError('MODEL_INVALID', `embodiment '${embodiment.name}' has no sole touch sensors`);
    }
    const n = embodiment.actionNames.length;
    const sole = (): TactileFeatures => ({
      contact: false,
      forceN: 0,
      centroid: new Float64Array(2),
      slipRate: 0,
    });
    this.estimator = new BaseEstimator(model);
    this.state = {
      tSec: 0,
      q: new Float64Array(n),
      qd: new Float64Array(n),
      tau: new Float64Array(n),
      objects: new Map(),
      tactile: new Map([
        ['left_sole', sole()],
        ['right_sole', sole()],
      ]),
      base: this.estimator.base,
    };
    this.soles = [this.state.tactile.get('left_sole')!, this.state.tactile.get('right_sole')!];
  }

  /** Every channel read has published a sample (sensors with latency publish nothing at first). */
  get ready(): boolean {
    return this.ch.every((c) => c.valid);
  }

  /** Starts the base estimate at `pelvisPos` (the localisation fix a field gives a robot it places). */
  reset(pelvisPos: ArrayLike<number>): void {
    this.estimator.reset(pelvisPos);
  }

  /** Reads the pipeline's current samples (update the pipeline first) into `state`. */
  update(tSec: number): void {
    const s = this.state;
    s.tSec = tSec;
    s.q.set(this.pos.values);
    s.qd.set(this.vel.values);
    s.tau.set(this.torque.values);
    const v = this.imuCh.values;
    for (let k = 0; k < 3; k++) {
      this.imu.acc[k] = v[k]!;
      this.imu.gyro[k] = v[3 + k]!;
    }
    for (let k = 0; k < 4; k++) this.imu.quat[k] = v[6 + k]!;
    const loadL = this.touch.values[this.touchIndex[0]]!;
    const loadR = this.touch.values[this.touchIndex[1]]!;
    this.estimator.update(tSec, this.imu, s.q, loadL, loadR);
    const g = this.model.geometry;
    for (let side = 0; side < 2; side++) {
      const f = this.soles[side]!;
      const load = side === 0 ? loadL : loadR;
      f.forceN = load;
      f.contact = load > this.estimator.contactThresholdN;
      // Centre of pressure from the sole wrench (site frame, `soleSiteHeightM` above the sole surface):
      // the sensor reports what the foot transmits to the shank, i.e. minus the ground's wrench on it.
      const wv = this.wrench[side]!.values;
      const fz = -wv[2]!;
      const h = g.soleSiteHeightM;
      if (fz > 1) {
        const px = (wv[4]! - h * -wv[0]!) / fz;
        const py = (-wv[3]! - h * -wv[1]!) / fz;
        f.centroid[0] = clamp01(0.5 + px / (2 * g.soleHalfLengthM));
        f.centroid[1] = clamp01(0.5 + py / (2 * g.soleHalfWidthM));
      } else {
        f.centroid[0] = 0.5;
        f.centroid[1] = 0.5;
      }
    }
  }
}

function clamp01(x: number): number {
  return x < 0 ? 0 : x > 1 ? 1 : x;
}
