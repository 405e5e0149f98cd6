/**
 * Perception for an arm: raw sensor channels in, one `WorldState` out, updated in place.
 *
 * - `updateProprio(t)`: joint positions, velocities and torques (held over short dropouts), tactile
 *   features per pad, and the gravity-compensated wrist wrench. Cheap (~3 us): run it at the cerebellum's
 *   rate so that skills servo on fresh joint state; a 30 Hz perception layer alone would feed them joint
 *   positions up to 33 ms old.
 * - `updateObjects(t)`: object poses at the object source's own rate (30 Hz by default), from the
 *   simulation with noise and latency (default, fast) or from a depth camera (segmentation and fitting,
 *   src/control/perception/depth-objects.ts; the rays cost milliseconds per frame).
 * - `update(t)` does both.
 *
 * Nothing here allocates per tick. (Measured with a heap profiler: what remains comes from the world's
 * kinematics call for the wrist orientation, src/sim/site-frame.ts fetching live views, and from V8
 * boxing a double passed to a call it did not inline.)
 *
 * The wrist sensor's orientation comes from the robot's own kinematics (the F/T frame of arm7 is aligned
 * with its grip site: both sit in the hand body without rotation).
 */
import { TgError } from '../../errors/index.ts';
import type { SensorChannel } from '../../sim/sensors/index.ts';
import type { ArmKinematics, ObjectEstimate, TactileFeatures, WorldState } from '../contracts.ts';
import type { DepthObjectDetector } from './depth-objects.ts';
import { HeldChannel } from './proprioception.ts';
import type { SimObjectTracker } from './sim-objects.ts';
import { type TactileCalibration, TactileFeatureExtractor } from './tactile.ts';
import { createWorldState } from './world-state.ts';
import { WristWrenchCompensator } from './wrist-wrench.ts';

/** What perception reads sensors through: the sensor pipeline (src/sim/sensors) or a real robot's driver. */
export interface SensorChannels {
  readonly names: readonly string[];
  channel(name: string): SensorChannel;
}

/** One depth frame and the camera pose it was taken from. */
export interface DepthFrameSource {
  readonly width: number;
  readonly height: number;
  readonly fovyDeg: number;
  /** Writes the current frame (z-depth, m, 0 = no return) into `out`; false when none is available. */
  read(out: Float64Array): boolean;
  /** Camera position (m, world) and orientation (row-major, world from camera) for that frame. */
  pose(pos: Float64Array, mat: Float64Array): void;
}

export type ObjectPerception =
  | { kind: 'sim'; tracker: SimObjectTracker }
  | { kind: 'depth'; detector: DepthObjectDetector; camera: DepthFrameSource; rateHz?: number };

export interface ArmPerceptionOptions {
  sensors: SensorChannels;
  /** Canonical state length (joints then grippers). */
  stateDim: number;
  /** For the wrist sensor's orientation; without it the wrench is not reported. */
  kinematics?: ArmKinematics;
  objects?: ObjectPerception;
  tactile?: { calibration?: TactileCalibration; contactDepthM?: number; slipFilterSec?: number };
  /** How long a lost joint sample is bridged before the state reads NaN (s, default 0.05). */
  maxHoldSec?: number;
}

interface Pad {
  channel: SensorChannel;
  extractor: TactileFeatureExtractor;
  out: TactileFeatures;
}

export class ArmPerception {
  readonly state: WorldState;
  /** Gravity compensation of the wrist sensor: `tareWrench` identifies the tool, `setTool` sets it. */
  readonly wristCompensation = new WristWrenchCompensator();
  private readonly q: HeldChannel;
  private readonly qd: HeldChannel;
  private readonly tau: HeldChannel;
  private readonly pads: Pad[];
  private readonly wrench: { channel: SensorChannel; held: HeldChannel; raw: Float64Array } | null;
  private readonly kin: ArmKinematics | undefined;
  private readonly objects: ObjectPerception | undefined;
  private readonly objectList: ObjectEstimate[];
  private readonly sitePos = new Float64Array(3);
  private readonly siteMat = new Float64Array(9);
  private readonly depthFrame: Float64Array | null;
  private readonly camPos = new Float64Array(3);
  private readonly camMat = new Float64Array(9);
  private nextDepthSec = -Infinity;

  constructor(opts: ArmPerceptionOptions) {
    const s = opts.sensors;
    const hold = opts.maxHoldSec ?? 0.05;
    const need = (name: string): SensorChannel => {
      if (!s.names.includes(name)) {
        throw new TgError(
          'CONFIG_INVALID',
          `perception needs sensor channel '${name}' (have ${s.names.join(', ')})`,
        );
      }
      return s.channel(name);
    };
    this.q = new HeldChannel(need('joint_pos'), hold);
    this.qd = new HeldChannel(need('joint_vel'), hold);
    this.tau = new HeldChannel(need('joint_torque'), hold);
    const padNames = s.names.filter((n) => n.startsWith('tactile.')).map((n) => n.slice('tactile.'.length));
    const wrenchName = s.names.find((n) => n.startsWith('wrench.'));
    this.kin = opts.kinematics;
    const objectNames =
      opts.objects?.kind === 'sim'
        ? opts.objects.tracker.names
        : (opts.objects?.detector.objects.map((o) => o.name) ?? []);
    this.state = createWorldState({
      stateDim: opts.stateDim,
      objects: objectNames,
      pads: padNames,
      wrench: wrenchName !== undefined && this.kin !== undefined,
    });
    this.pads = padNames.map((p) => {
      const channel = s.channel(`tactile.${p}`);
      const [rows, cols] = channel.shape.length === 2 ? channel.shape : [1, channel.dim];
      return {
        channel,
        extractor: new TactileFeatureExtractor({ rows: rows!, cols: cols!, ...opts.tactile }),
        out: this.state.tactile.get(p)!,
      };
    });
    if (wrenchName !== undefined && this.kin !== undefined) {
      const channel = s.channel(wrenchName);
      this.wrench = { channel, held: new HeldChannel(channel, hold), raw: new Float64Array(6) };
    } else this.wrench = null;
    this.objects = opts.objects;
    this.objectList = objectNames.map((n) => this.state.objects.get(n)!);
    this.depthFrame =
      opts.objects?.kind === 'depth'
        ? new Float64Array(opts.objects.camera.width * opts.objects.camera.height)
        : null;
  }

  update(tSec: number): void {
    this.updateProprio(tSec);
    this.updateObjects(tSec);
  }

  /** Joints, tactile pads and wrist wrench at `tSec` (sim or robot time). Allocation-free. */
  updateProprio(tSec: number): void {
    const st = this.state;
    st.tSec = tSec;
    this.q.read(tSec, st.q);
    this.qd.read(tSec, st.qd);
    this.tau.read(tSec, st.tau);
    for (let i = 0; i < this.pads.length; i++) {
      const p = this.pads[i]!;
      p.extractor.updateFrom(p.channel, p.out);
    }
    const w = this.wrench;
    if (w !== null && st.wrench !== undefined) {
      w.held.read(tSec, w.raw);
      this.kin!.gripSite(this.sitePos, this.siteMat);
      this.wristCompensation.compensate(w.raw, this.siteMat, st.wrench);
    }
  }

  /** Object poses, when the object source is due. */
  updateObjects(tSec: number): void {
    const o = this.objects;
    if (o === undefined) return;
    if (o.kind === 'sim') {
      o.tracker.update(tSec, this.objectList);
      return;
    }
    if (tSec + 1e-9 < this.nextDepthSec) return;
    const period = 1 / (o.rateHz ?? 30);
    this.nextDepthSec = this.nextDepthSec === -Infinity ? tSec + period : this.nextDepthSec + period;
    if (this.nextDepthSec <= tSec) this.nextDepthSec = tSec + period;
    const frame = this.depthFrame!;
    if (!o.camera.read(frame)) {
      for (let i = 0; i < this.objectList.length; i++) this.objectList[i]!.visible = false;
      return;
    }
    o.camera.pose(this.camPos, this.camMat);
    o.detector.detect(frame, this.camPos, this.camMat, tSec, this.objectList);
  }

  /**
   * Takes the current wrist reading as the tool's weight (hand plus whatever it holds): call it with the
   * arm at rest and nothing touching the tool. Returns the identified mass (kg).
   */
  tareWrench(): number {
    const w = this.wrench;
    if (w === null)
      throw new TgError('CONFIG_INVALID', 'perception has no wrist wrench (no sensor or no kinematics)');
    if (!w.channel.valid)
      throw new TgError('INPUT_INVALID', `wrist channel '${w.channel.name}' has no valid sample yet`);
    this.kin!.gripSite(this.sitePos, this.siteMat);
    this.wristCompensation.identify(w.channel.values, this.siteMat);
    // The state reads the new compensation at once, not from the next update.
    if (this.state.wrench !== undefined)
      this.wristCompensation.compensate(w.channel.values, this.siteMat, this.state.wrench);
    return this.wristCompensation.massKg;
  }

  /** Forgets history (after a world reset). */
  reset(): void {
    this.q.reset();
    this.qd.reset();
    this.tau.reset();
    this.wrench?.held.reset();
    for (const p of this.pads) p.extractor.reset();
    if (this.objects?.kind === 'sim') this.objects.tracker.reset();
    this.nextDepthSec = -Infinity;
    for (const e of this.objectList) {
      e.visible = false;
      e.stampSec = Number.NaN;
    }
  }
}
