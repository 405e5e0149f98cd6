/**
 * Object poses "from simulation with realistic noise and latency": the fast default path of perception.
 * The true poses (read from the simulator through an `ObjectPoseSource`) are sampled at a camera-like rate,
 * corrupted with Gaussian position noise and a yaw error, lost with a dropout probability or when outside
 * the camera's view, and published only after the processing latency, exactly as the depth path's output
 * would arrive. `update` allocates nothing.
 */
import { TgError } from '../../errors/index.ts';
import type { SceneWorld } from '../../sim/scenes/scene-world.ts';
import { GaussianSource } from '../../sim/sensors/index.ts';
import type { ObjectEstimate } from '../contracts.ts';
import { matToQuat } from '../rotation.ts';

/** Where the true pose of each tracked object comes from (the simulator, or a motion-capture system). */
export interface ObjectPoseSource {
  readonly names: readonly string[];
  /** True pose of object `i`: position (m, world) and quaternion (w, x, y, z). */
  read(i: number, pos: Float64Array, quat: Float64Array): void;
}

/**
 * A tracked object in a scene: its pose is a body's frame or a site's (holes, targets without bodies),
 * optionally moved by an offset in that frame (a cup's centre above its bottom, a slot inside a box).
 */
export interface SceneObjectSpec {
  name: string;
  body?: string;
  site?: string;
  /** Offset in the body/site frame (m). */
  offsetM?: readonly [number, number, number];
}

/**
 * Reads object poses from a SceneWorld's kinematics (`xpos`/`xmat`/`xquat`, `site_xpos`/`site_xmat`).
 * Reading allocates nothing.
 */
export function sceneObjectSource(world: SceneWorld, specs: readonly SceneObjectSpec[]): ObjectPoseSource {
  const n = specs.length;
  const isSite = new Uint8Array(n);
  const ids = Int32Array.from(specs, (s, i) => {
    if (s.site !== undefined) {
      isSite[i] = 1;
      return world.id('site', s.site);
    }
    return world.id('body', s.body ?? s.name);
  });
  const offsets = new Float64Array(3 * n);
  for (let i = 0; i < n; i++) offsets.set(specs[i]!.offsetM ?? [0, 0, 0], 3 * i);
  // Live views, fetched again only once the WASM heap grew (each fetch allocates a view).
  const d = world.data;
  let xpos = d.xpos as Float64Array;
  let xmat = d.xmat as Float64Array;
  let xquat = d.xquat as Float64Array;
  let sitePos = d.site_xpos as Float64Array;
  let siteMat = d.site_xmat as Float64Array;
  return {
    names: specs.map((s) => s.name),
    read(i, pos, quat) {
      if (xpos.length === 0 || siteMat.length === 0) {
        xpos = d.xpos as Float64Array;
        xmat = d.xmat as Float64Array;
        xquat = d.xquat as Float64Array;
        sitePos = d.site_xpos as Float64Array;
        siteMat = d.site_xmat as Float64Array;
      }
      const id = ids[i]!;
      const site = isSite[i] === 1;
      const p = site ? sitePos : xpos;
      const m = site ? siteMat : xmat;
      const ox = offsets[3 * i]!;
      const oy = offsets[3 * i + 1]!;
      const oz = offsets[3 * i + 2]!;
      // World position of the offset point: p + R o, R row-major world-from-frame.
      for (let k = 0; k < 3; k++) {
        const r = 9 * id + 3 * k;
        pos[k] = p[3 * id + k]! + m[r]! * ox + m[r + 1]! * oy + m[r + 2]! * oz;
      }
      if (site) matToQuat(siteMat, 9 * id, quat);
      else for (let k = 0; k < 4; k++) quat[k] = xquat[4 * id + k]!;
    },
  };
}

export interface SimObjectNoise {
  /** Detection rate (Hz, default 30). */
  rateHz?: number;
  /** Processing latency (s, default 0.04). */
  latencySec?: number;
  /** Position noise, standard deviation per axis (m, default 0.002). */
  posNoiseStd?: number;
  /** Yaw noise about world z, standard deviation (rad, default 0.02). */
  yawNoiseStd?: number;
  /** Probability that a detection is lost (default 0). */
  dropout?: number;
  /** Constant position error per object (m, world): a miscalibrated camera, a mis-registered fixture. */
  biasM?: Readonly<Record<string, readonly [number, number, number]>>;
  /** The camera's view in the world: objects outside this box are not seen. Default: everywhere. */
  view?: { min: readonly [number, number, number]; max: readonly [number, number, number] };
}

interface Resolved {
  periodSec: number;
  latencySec: number;
  posNoiseStd: number;
  yawNoiseStd: number;
  dropout: number;
  viewMin: Float64Array;
  viewMax: Float64Array;
  /** Per object, in `names` order (3 each). */
  bias: Float64Array;
}

export class SimObjectTracker {
  readonly names: readonly string[];
  private readonly source: ObjectPoseSource;
  private readonly noise: GaussianSource;
  private readonly draws = new Float64Array(3);
  private readonly o: Resolved;
  private readonly capacity: number;
  /** Per slot: stamp; per slot and object: pose (7) and seen flag. */
  private readonly stamps: Float64Array;
  private readonly poses: Float64Array;
  private readonly seen: Uint8Array;
  private head = -1;
  private count = 0;
  private nextSampleSec = -Infinity;
  private readonly pos = new Float64Array(3);
  private readonly quat = new Float64Array(4);

  constructor(source: ObjectPoseSource, rng: { next(): number }, opts: SimObjectNoise = {}) {
    const rateHz = opts.rateHz ?? 30;
    if (!(rateHz > 0)) throw new TgError('CONFIG_INVALID', `object tracker rateHz ${rateHz} must be > 0`);
    const latencySec = opts.latencySec ?? 0.04;
    if (!(latencySec >= 0 && latencySec <= 1)) {
      throw new TgError('CONFIG_INVALID', `object tracker latencySec ${latencySec} must be in [0, 1]`);
    }
    const dropout = opts.dropout ?? 0;
    if (!(dropout >= 0 && dropout < 1)) {
      throw new TgError('CONFIG_INVALID', `object tracker dropout ${dropout} must be in [0, 1)`);
    }
    this.source = source;
    this.names = source.names;
    this.noise = new GaussianSource(rng);
    this.o = {
      periodSec: 1 / rateHz,
      latencySec,
      posNoiseStd: opts.posNoiseStd ?? 0.002,
      yawNoiseStd: opts.yawNoiseStd ?? 0.02,
      dropout,
      viewMin: Float64Array.from(opts.view?.min ?? [-Infinity, -Infinity, -Infinity]),
      viewMax: Float64Array.from(opts.view?.max ?? [Infinity, Infinity, Infinity]),
      bias: new Float64Array(3 * source.names.length),
    };
    for (const [name, b] of Object.entries(opts.biasM ?? {})) {
      const i = source.names.indexOf(name);
      if (i < 0) throw new TgError('CONFIG_INVALID', `object tracker: bias for unknown object '${name}'`);
      for (let k = 0; k < 3; k++) this.o.bias[3 * i + k] = b[k]!;
    }
    this.capacity = Math.ceil(latencySec * rateHz) + 2;
    const n = source.names.length;
    this.stamps = new Float64Array(this.capacity);
    this.poses = new Float64Array(this.capacity * n * 7);
    this.seen = new Uint8Array(this.capacity * n);
  }

  reset(): void {
    this.head = -1;
    this.count = 0;
    this.nextSampleSec = -Infinity;
  }

  /** Samples when due at `tSec` and publishes what has arrived into `out` (indexed like `names`). */
  update(tSec: number, out: readonly ObjectEstimate[]): void {
    const eps = 1e-9;
    if (tSec + eps >= this.nextSampleSec) {
      this.sample(tSec);
      if (this.nextSampleSec === -Infinity) this.nextSampleSec = tSec;
      while (this.nextSampleSec <= tSec + eps) this.nextSampleSec += this.o.periodSec;
    }
    const due = tSec - this.o.latencySec + eps;
    const n = this.names.length;
    for (let k = 0; k < this.count; k++) {
      const slot = (this.head - k + this.capacity) % this.capacity;
      const stamp = this.stamps[slot]!;
      if (stamp > due) continue;
      for (let i = 0; i < n; i++) {
        const e = out[i]!;
        if (e.stampSec === stamp) continue; // already published
        const ok = this.seen[slot * n + i] === 1;
        if (ok) {
          const b = (slot * n + i) * 7;
          for (let j = 0; j < 3; j++) e.pos[j] = this.poses[b + j]!;
          for (let j = 0; j < 4; j++) e.quat[j] = this.poses[b + 3 + j]!;
          e.stampSec = stamp;
        }
        e.visible = ok;
      }
      return;
    }
  }

  private sample(tSec: number): void {
    const o = this.o;
    this.head = (this.head + 1) % this.capacity;
    if (this.count < this.capacity) this.count++;
    this.stamps[this.head] = tSec;
    const n = this.names.length;
    const { pos, quat } = this;
    for (let i = 0; i < n; i++) {
      this.source.read(i, pos, quat);
      const b = (this.head * n + i) * 7;
      let inView = o.dropout === 0 || this.noise.uniform() >= o.dropout;
      // The draws in the order `normal()` one by one would take them (x, y, z, then yaw), filled into a
      // buffer: no boxed double per draw.
      const draws = this.draws;
      if (o.posNoiseStd > 0) this.noise.fill(draws, 3);
      for (let j = 0; j < 3; j++) {
        const x = pos[j]!;
        if (!(x >= o.viewMin[j]! && x <= o.viewMax[j]!)) inView = false;
        const biased = x + o.bias[3 * i + j]!;
        this.poses[b + j] = o.posNoiseStd > 0 ? biased + o.posNoiseStd * draws[j]! : biased;
      }
      // Yaw error: q' = qz(e) * q, a rotation by e about world z applied after the true orientation.
      if (o.yawNoiseStd > 0) this.noise.fill(draws, 1);
      const e = o.yawNoiseStd > 0 ? o.yawNoiseStd * draws[0]! : 0;
      const c = Math.cos(e / 2);
      const s = Math.sin(e / 2);
      const w = quat[0]!;
      const x = quat[1]!;
      const y = quat[2]!;
      const z = quat[3]!;
      this.poses[b + 3] = c * w - s * z;
      this.poses[b + 4] = c * x - s * y;
      this.poses[b + 5] = c * y + s * x;
      this.poses[b + 6] = c * z + s * w;
      this.seen[this.head * n + i] = inView ? 1 : 0;
    }
  }
}
