/**
 * A depth camera simulated with rays: one `mj_multiRay` call per frame from a site, no per-ray calls into
 * WASM. The camera looks along the site's -z with +y up and +x right (MuJoCo's camera convention). Ray
 * directions have unit forward component, so MuJoCo's ray distance is the z-depth directly; no hit (or
 * beyond `maxRangeM`) reads 0, as depth sensors report missing data.
 */
import { TgError } from '../../errors/index.ts';
import type { DoubleBuffer, MjData, MjModel, Mujoco } from '../mujoco.ts';
import type { DataViews } from './pipeline.ts';

export interface DepthCameraSpec {
  site: string;
  width: number;
  height: number;
  fovyDeg: number;
  maxRangeM: number;
}

export class DepthCamera {
  readonly width: number;
  readonly height: number;
  private readonly mj: Mujoco;
  private readonly model: MjModel;
  private readonly data: MjData;
  private readonly siteId: number;
  private readonly bodyExclude: number;
  private readonly maxRangeM: number;
  /** Ray directions in the camera frame (x, y, -1) per pixel, row-major from the top-left. */
  private readonly local: Float64Array;
  private readonly world: Float64Array;
  private readonly origin = new Float64Array(3);
  private readonly geomId: InstanceType<Mujoco['IntBuffer']>;
  private readonly dist: DoubleBuffer;
  private distView: Float64Array;

  constructor(mj: Mujoco, model: MjModel, data: MjData, spec: DepthCameraSpec) {
    this.mj = mj;
    this.model = model;
    this.data = data;
    this.width = spec.width;
    this.height = spec.height;
    this.maxRangeM = spec.maxRangeM;
    this.siteId = mj.mj_name2id(model, mj.mjtObj.mjOBJ_SITE.value, spec.site);
    if (this.siteId < 0) throw new TgError('MODEL_INVALID', `depth camera site '${spec.site}' not in model`);
    this.bodyExclude = (model.site_bodyid as Int32Array)[this.siteId]!;
    const n = spec.width * spec.height;
    this.local = new Float64Array(3 * n);
    this.world = new Float64Array(3 * n);
    const f = spec.height / 2 / Math.tan((spec.fovyDeg * Math.PI) / 360);
    for (let r = 0; r < spec.height; r++) {
      for (let c = 0; c < spec.width; c++) {
        const k = 3 * (r * spec.width + c);
        this.local[k] = (c + 0.5 - spec.width / 2) / f;
        this.local[k + 1] = -(r + 0.5 - spec.height / 2) / f;
        this.local[k + 2] = -1;
      }
    }
    this.geomId = new mj.IntBuffer(n);
    this.dist = new mj.DoubleBuffer(n);
    this.distView = this.dist.GetView() as Float64Array;
  }

  /** Renders one depth frame (metres, row-major, height x width) into `out`. */
  read(v: DataViews, out: Float64Array): void {
    const s = this.siteId;
    const xpos = v.siteXpos;
    const R = v.siteXmat;
    for (let i = 0; i < 3; i++) this.origin[i] = xpos[3 * s + i]!;
    const b = 9 * s;
    const L = this.local;
    const W = this.world;
    for (let k = 0; k < L.length; k += 3) {
      const x = L[k]!;
      const y = L[k + 1]!;
      const z = L[k + 2]!;
      // world = R * local; R row-major with the site's axes as columns.
      W[k] = R[b]! * x + R[b + 1]! * y + R[b + 2]! * z;
      W[k + 1] = R[b + 3]! * x + R[b + 4]! * y + R[b + 5]! * z;
      W[k + 2] = R[b + 6]! * x + R[b + 7]! * y + R[b + 8]! * z;
    }
    const n = this.width * this.height;
    this.mj.mj_multiRay(
      this.model,
      this.data,
      this.origin as unknown as number[],
      W as unknown as number[],
      null as unknown as number[],
      true,
      this.bodyExclude,
      this.geomId,
      this.dist,
      null,
      n,
      this.maxRangeM,
    );
    if (this.distView.length === 0) this.distView = this.dist.GetView() as Float64Array;
    const d = this.distView;
    for (let i = 0; i < n; i++) {
      const z = d[i]!;
      out[i] = z > 0 && z <= this.maxRangeM ? z : 0;
    }
  }

  dispose(): void {
    this.geomId.delete();
    this.dist.delete();
  }
}
