/**
 * The sensor pipeline: per-channel sampling rate, Gaussian noise, latency (a ring buffer of past samples)
 * and dropout over a compiled model, for the channel groups of DESIGN.md's canonical vectors:
 * `joint_pos`, `joint_vel`, `joint_torque`, `imu`, `touch`, `tactile.<pad>` (rows x cols),
 * `wrench.<site>` (force then torque, site frame) and `depth.<camera>` (one `mj_multiRay` per frame).
 *
 * Everything is allocated in `create`; `update` allocates nothing. Randomness comes from the Rng passed in.
 * Call `update(timeSec)` after each physics step (or at the control rate); read `channel(name).values`.
 */
import type { Embodiment, EmbodimentSensor } from '../../embodiment/index.ts';
import { TgError } from '../../errors/index.ts';
import type { MjData, MjModel, Mujoco } from '../mujoco.ts';
import type { Rng } from '../rng.ts';
import {
  type ChannelSettings,
  type DepthSettings,
  parseChannelSettings,
  type SensorConfig,
} from './config.ts';
import { DepthCamera } from './depth-camera.ts';
import { GaussianSource } from './noise.ts';

/** Live views of one MjData, re-fetched when the WASM heap grew (DESIGN.md, MuJoCo WASM notes). */
export class DataViews {
  qpos!: Float64Array;
  qvel!: Float64Array;
  sensordata!: Float64Array;
  actuatorForce!: Float64Array;
  tenLength!: Float64Array;
  tenVelocity!: Float64Array;
  siteXpos!: Float64Array;
  siteXmat!: Float64Array;
  constructor(readonly data: MjData) {
    this.refresh();
  }
  /** Re-fetches the views if any died; cheap when none did. */
  check(): void {
    if (this.qpos.length === 0 || this.siteXmat.length === 0) this.refresh();
  }
  private refresh(): void {
    const d = this.data;
    this.qpos = d.qpos;
    this.qvel = d.qvel;
    this.sensordata = d.sensordata;
    this.actuatorForce = d.actuator_force;
    this.tenLength = d.ten_length;
    this.tenVelocity = d.ten_velocity;
    this.siteXpos = d.site_xpos;
    this.siteXmat = d.site_xmat;
  }
}

/** Where a channel's raw values come from. */
interface Source {
  read(v: DataViews, out: Float64Array): void;
}

/** Gathers `sensordata` segments (or qpos/qvel/... entries) by index. */
class IndexSource implements Source {
  constructor(
    private readonly pick: (v: DataViews) => Float64Array,
    private readonly index: Int32Array,
  ) {}
  read(v: DataViews, out: Float64Array): void {
    const src = this.pick(v);
    const idx = this.index;
    for (let i = 0; i < idx.length; i++) out[i] = src[idx[i]!]!;
  }
}

/** Joint positions/velocities then tendon (gripper) lengths/velocities: the canonical state layout. */
class StateSource implements Source {
  constructor(
    private readonly velocity: boolean,
    private readonly joints: Int32Array,
    private readonly tendons: Int32Array,
  ) {}
  read(v: DataViews, out: Float64Array): void {
    const q = this.velocity ? v.qvel : v.qpos;
    const t = this.velocity ? v.tenVelocity : v.tenLength;
    const nj = this.joints.length;
    for (let i = 0; i < nj; i++) out[i] = q[this.joints[i]!]!;
    for (let i = 0; i < this.tendons.length; i++) out[nj + i] = t[this.tendons[i]!]!;
  }
}

export interface SensorChannel {
  readonly name: string;
  readonly dim: number;
  /** [dim] or [rows, cols] (tactile, depth). */
  readonly shape: number[];
  readonly settings: Readonly<ChannelSettings>;
  /** Published reading (reused: copy what you keep). */
  readonly values: Float64Array;
  /** False until a first sample is published, and while a dropped sample is published as NaN. */
  valid: boolean;
  /** Sim time (s) at which the published sample was taken; NaN before the first. */
  stampSec: number;
  /** Samples taken and samples lost to dropout. */
  samples: number;
  dropped: number;
}

class Channel implements SensorChannel {
  readonly values: Float64Array;
  valid = false;
  stampSec = Number.NaN;
  samples = 0;
  dropped = 0;
  private readonly raw: Float64Array;
  private readonly lastGood: Float64Array;
  private readonly ring: Float64Array;
  private readonly ringStamp: Float64Array;
  private readonly ringValid: Uint8Array;
  private readonly capacity: number;
  private head = -1;
  private count = 0;
  private nextSampleSec = -Infinity;
  private readonly periodSec: number;
  private published = -1;

  constructor(
    readonly name: string,
    readonly dim: number,
    readonly shape: number[],
    readonly settings: ChannelSettings,
    private readonly source: Source,
    updateHz: number,
  ) {
    this.values = new Float64Array(dim).fill(Number.NaN);
    this.raw = new Float64Array(dim);
    this.lastGood = new Float64Array(dim).fill(Number.NaN);
    const rate = settings.rateHz ?? updateHz;
    this.periodSec = settings.rateHz ? 1 / settings.rateHz : 0;
    this.capacity = Math.ceil(settings.latencySec * rate) + 2;
    this.ring = new Float64Array(this.capacity * dim);
    this.ringStamp = new Float64Array(this.capacity);
    this.ringValid = new Uint8Array(this.capacity);
  }

  reset(): void {
    this.head = -1;
    this.count = 0;
    this.nextSampleSec = -Infinity;
    this.published = -1;
    this.valid = false;
    this.stampSec = Number.NaN;
    this.values.fill(Number.NaN);
    this.lastGood.fill(Number.NaN);
  }

  update(v: DataViews, timeSec: number, noise: GaussianSource): void {
    const eps = 1e-9;
    if (timeSec + eps >= this.nextSampleSec) {
      this.sample(v, timeSec, noise);
      if (this.periodSec > 0) {
        if (this.nextSampleSec === -Infinity) this.nextSampleSec = timeSec;
        while (this.nextSampleSec <= timeSec + eps) this.nextSampleSec += this.periodSec;
      }
    }
    // Publish the newest sample old enough to have arrived.
    const due = timeSec - this.settings.latencySec + eps;
    for (let k = 0; k < this.count; k++) {
      const slot = (this.head - k + this.capacity) % this.capacity;
      if (this.ringStamp[slot]! <= due) {
        if (slot !== this.published) {
          this.published = slot;
          // A copy loop, not `set(subarray)`: a subarray is a new view object on every publish.
          const ring = this.ring;
          const base = slot * this.dim;
          for (let i = 0; i < this.dim; i++) this.values[i] = ring[base + i]!;
          this.valid = this.ringValid[slot] === 1;
          this.stampSec = this.ringStamp[slot]!;
        }
        return;
      }
    }
  }

  private sample(v: DataViews, timeSec: number, noise: GaussianSource): void {
    const { dim, settings } = this;
    this.head = (this.head + 1) % this.capacity;
    if (this.count < this.capacity) this.count++;
    if (this.head === this.published) this.published = -1;
    const base = this.head * dim;
    const ring = this.ring;
    this.samples++;
    let ok = 1;
    if (settings.dropout > 0 && noise.uniform() < settings.dropout) {
      this.dropped++;
      if (settings.dropoutMode === 'nan') {
        for (let i = 0; i < dim; i++) ring[base + i] = Number.NaN;
        ok = 0;
      } else {
        for (let i = 0; i < dim; i++) ring[base + i] = this.lastGood[i]!;
        ok = Number.isNaN(this.lastGood[0]!) ? 0 : 1;
      }
    } else {
      this.source.read(v, this.raw);
      const std = settings.noiseStd;
      for (let i = 0; i < dim; i++) {
        const x = std > 0 ? this.raw[i]! + std * noise.normal() : this.raw[i]!;
        this.lastGood[i] = x;
        ring[base + i] = x;
      }
    }
    this.ringStamp[this.head] = timeSec;
    this.ringValid[this.head] = ok;
  }
}

export interface SensorPipelineOptions {
  /** Settings per channel; channels not named get the defaults (every update, no noise, no delay). */
  config?: SensorConfig;
  rng: Rng;
  /** How often `update` is called (Hz), for sizing latency buffers; default the physics rate. */
  updateHz?: number;
}

export class SensorPipeline {
  private readonly views: DataViews;
  private readonly noise: GaussianSource;
  private readonly list: Channel[];
  private readonly byName: Map<string, Channel>;
  private readonly cameras: DepthCamera[];

  private constructor(views: DataViews, noise: GaussianSource, list: Channel[], cameras: DepthCamera[]) {
    this.views = views;
    this.noise = noise;
    this.list = list;
    this.byName = new Map(list.map((c) => [c.name, c]));
    this.cameras = cameras;
  }

  static create(
    mj: Mujoco,
    model: MjModel,
    data: MjData,
    embodiment: Embodiment,
    opts: SensorPipelineOptions,
  ): SensorPipeline {
    const m = model;
    const config = opts.config ?? {};
    const updateHz = opts.updateHz ?? 1 / m.opt.timestep;
    const id = (type: number, name: string, what: string): number => {
      const i = mj.mj_name2id(m, type, name);
      if (i < 0)
        throw new TgError('MODEL_INVALID', `model has no ${what} '${name}' (embodiment ${embodiment.name})`);
      return i;
    };
    const OBJ = mj.mjtObj;
    const jntQpos = m.jnt_qposadr as Int32Array;
    const jntDof = m.jnt_dofadr as Int32Array;
    const sensorAdr = Int32Array.from(m.sensor_adr as Int32Array);
    const sensorDim = Int32Array.from(m.sensor_dim as Int32Array);
    const jointIds = embodiment.jointNames.map((n) => id(OBJ.mjOBJ_JOINT.value, n, 'joint'));
    const tendonIds = embodiment.actuators
      .filter((a) => a.joint === null)
      .map((a) => id(OBJ.mjOBJ_TENDON.value, a.target, 'tendon'));
    const actuatorIds = embodiment.actuators.map((a) => id(OBJ.mjOBJ_ACTUATOR.value, a.name, 'actuator'));
    const sensorIndex = (sensors: EmbodimentSensor[], firstN?: number): Int32Array => {
      const idx: number[] = [];
      for (const s of sensors) {
        const i = id(OBJ.mjOBJ_SENSOR.value, s.name, 'sensor');
        const n = firstN ?? sensorDim[i]!;
        for (let k = 0; k < n; k++) idx.push(sensorAdr[i]! + k);
      }
      return Int32Array.from(idx);
    };

    const specs: {
      name: string;
      shape: number[];
      source: Source;
      depth?: DepthSettings & { site: string };
    }[] = [];
    const stateDim = embodiment.stateNames.length;
    specs.push({
      name: 'joint_pos',
      shape: [stateDim],
      source: new StateSource(
        false,
        Int32Array.from(jointIds, (j) => jntQpos[j]!),
        Int32Array.from(tendonIds),
      ),
    });
    specs.push({
      name: 'joint_vel',
      shape: [stateDim],
      source: new StateSource(
        true,
        Int32Array.from(jointIds, (j) => jntDof[j]!),
        Int32Array.from(tendonIds),
      ),
    });
    specs.push({
      name: 'joint_torque',
      shape: [actuatorIds.length],
      source: new IndexSource((v) => v.actuatorForce, Int32Array.from(actuatorIds)),
    });
    const ofType = (...types: string[]) => embodiment.sensors.filter((s) => types.includes(s.type));
    const imu = ofType('accelerometer', 'gyro', 'framequat');
    if (imu.length > 0) {
      const index = sensorIndex(imu);
      specs.push({ name: 'imu', shape: [index.length], source: new IndexSource((v) => v.sensordata, index) });
    }
    const touch = ofType('touch');
    if (touch.length > 0) {
      const index = sensorIndex(touch);
      specs.push({
        name: 'touch',
        shape: [index.length],
        source: new IndexSource((v) => v.sensordata, index),
      });
    }
    for (const pad of ofType('tactile')) {
      const grid = pad.grid ?? {
        rows: 1,
        cols: sensorDim[id(OBJ.mjOBJ_SENSOR.value, pad.name, 'sensor')]! / 3,
      };
      // Channel 0 (normal penetration) of the first rows x cols vertices: MuJoCo's tactile data is channel-major.
      const index = sensorIndex([pad], grid.rows * grid.cols);
      specs.push({
        name: `tactile.${pad.name}`,
        shape: [grid.rows, grid.cols],
        source: new IndexSource((v) => v.sensordata, index),
      });
    }
    const wrenchSites = [...new Set(ofType('force').map((s) => s.attachedTo.name))];
    for (const siteName of wrenchSites) {
      const pair = ofType('force', 'torque')
        .filter((s) => s.attachedTo.name === siteName)
        .sort((a, b) => (a.type === b.type ? 0 : a.type === 'force' ? -1 : 1));
      const index = sensorIndex(pair);
      specs.push({
        name: `wrench.${siteName}`,
        shape: [index.length],
        source: new IndexSource((v) => v.sensordata, index),
      });
    }

    const known = new Set([...specs.map((s) => s.name), ...embodiment.cameras.map((c) => `depth.${c.name}`)]);
    for (const name of Object.keys(config)) {
      if (!known.has(name)) {
        throw new TgError(
          'INPUT_INVALID',
          `sensor '${name}' does not exist on ${embodiment.name} (channels: ${[...known].join(', ')})`,
        );
      }
    }

    const views = new DataViews(data);
    const channels: Channel[] = [];
    const cameras: DepthCamera[] = [];
    try {
      for (const s of specs) {
        const settings = parseChannelSettings(s.name, config[s.name], false);
        const dim = s.shape.reduce((a, b) => a * b, 1);
        channels.push(new Channel(s.name, dim, s.shape, settings, s.source, updateHz));
      }
      for (const cam of embodiment.cameras) {
        const name = `depth.${cam.name}`;
        const settings = parseChannelSettings(name, config[name], true);
        const camera = new DepthCamera(mj, m, data, {
          site: cam.site,
          width: settings.width ?? cam.width,
          height: settings.height ?? cam.height,
          fovyDeg: settings.fovyDeg ?? cam.fovyDeg,
          maxRangeM: settings.maxRangeM ?? cam.maxRangeM,
        });
        cameras.push(camera);
        channels.push(
          new Channel(
            name,
            camera.width * camera.height,
            [camera.height, camera.width],
            settings,
            camera,
            updateHz,
          ),
        );
      }
    } catch (err) {
      for (const c of cameras) c.dispose();
      throw err;
    }
    return new SensorPipeline(views, new GaussianSource(opts.rng), channels, cameras);
  }

  /** Channel names, in a stable order. */
  get names(): string[] {
    return this.list.map((c) => c.name);
  }

  channel(name: string): SensorChannel {
    const c = this.byName.get(name);
    if (!c)
      throw new TgError('NOT_FOUND', `no sensor channel '${name}' (channels: ${this.names.join(', ')})`);
    return c;
  }

  /** Samples the channels that are due at `timeSec` and publishes what has arrived. Allocation-free. */
  update(timeSec: number): void {
    this.views.check();
    for (let i = 0; i < this.list.length; i++) this.list[i]!.update(this.views, timeSec, this.noise);
  }

  /** Forgets buffered samples and the noise source's spare sample (call after a world reset). */
  reset(): void {
    for (const c of this.list) c.reset();
    this.noise.reset();
  }

  dispose(): void {
    for (const c of this.cameras) c.dispose();
  }
}
