/**
 * Object poses from a depth image: the vision path of perception, for tabletop scenes.
 *
 * 1. Back-project every pixel with a return to a world point (pinhole model with the depth camera's
 *    conventions, src/sim/sensors/depth-camera.ts: looks along the camera's -z, +y up, depth is z-depth).
 * 2. Segment the support plane: the mode of the heights (the table is the largest horizontal surface in
 *    view), then a least-squares plane z = a x + b y + c through the points near it.
 * 3. Points higher than `planeToleranceM` above the plane (and below the tallest catalogued object) are
 *    grouped into clusters: 4-connected pixels whose heights differ by less than `clusterStepM`.
 * 4. Each cluster's top face (points within `topToleranceM` of its highest point) gives the yaw (from its
 *    fourth-order moment), then its bounding rectangle at that yaw the centre and the footprint; the
 *    height above the plane gives the centre's z. Clusters are matched to the catalogue by height,
 *    footprint and how much of the face is seen (a partly hidden object is reported not visible rather
 *    than placed wrong).
 *
 * Everything is preallocated for the image size: `detect` allocates nothing.
 */
import { TgError } from '../../errors/index.ts';
import type { ObjectEstimate } from '../contracts.ts';

export type DepthObjectModel =
  | { name: string; shape: 'box'; sizeM: readonly [number, number, number] }
  | { name: string; shape: 'cylinder'; radiusM: number; heightM: number };

export interface DepthDetectorOptions {
  width: number;
  height: number;
  fovyDeg: number;
  /** The objects to look for, in `detect`'s output order. */
  objects: readonly DepthObjectModel[];
  /** Points this far above the plane belong to objects (m, default 0.004). */
  planeToleranceM?: number;
  /** Neighbouring pixels whose heights differ by less than this are one cluster (m, default 0.01). */
  clusterStepM?: number;
  /** The top face: points within this of a cluster's highest point (m, default 0.004). */
  topToleranceM?: number;
  /** Height and footprint tolerance for matching a cluster to a catalogued object (m, default 0.008). */
  sizeToleranceM?: number;
  /** Clusters with fewer pixels are noise (default 6). */
  minPixels?: number;
}

const HIST_BINS = 256;
const MAX_CLUSTERS = 128;

export class DepthObjectDetector {
  readonly objects: readonly DepthObjectModel[];
  /** The last fitted support plane: z = a x + b y + c. */
  readonly plane = new Float64Array(3);
  /** Clusters found in the last frame (after the size filter), for diagnostics. */
  clusters = 0;
  private readonly w: number;
  private readonly h: number;
  private readonly focal: number;
  private readonly planeTol: number;
  private readonly clusterStep: number;
  private readonly topTol: number;
  private readonly sizeTol: number;
  private readonly minPixels: number;
  private readonly maxHeight: number;
  private readonly px: Float64Array;
  private readonly py: Float64Array;
  private readonly pz: Float64Array;
  /** Z-depth of each pixel (m). */
  private readonly range: Float64Array;
  /** Height above the plane; NaN where the pixel has no return. */
  private readonly ph: Float64Array;
  private readonly label: Int32Array;
  private readonly queue: Int32Array;
  private readonly hist: Int32Array = new Int32Array(HIST_BINS);
  private readonly cStart = new Int32Array(MAX_CLUSTERS);
  private readonly cEnd = new Int32Array(MAX_CLUSTERS);
  private readonly cTop = new Float64Array(MAX_CLUSTERS);
  private readonly cX = new Float64Array(MAX_CLUSTERS);
  private readonly cY = new Float64Array(MAX_CLUSTERS);
  private readonly cYaw = new Float64Array(MAX_CLUSTERS);
  private readonly cA = new Float64Array(MAX_CLUSTERS);
  private readonly cB = new Float64Array(MAX_CLUSTERS);
  private readonly cPix = new Float64Array(MAX_CLUSTERS);
  /** Points on the top face. */
  private readonly cTopN = new Int32Array(MAX_CLUSTERS);
  private readonly cTaken = new Uint8Array(MAX_CLUSTERS);

  constructor(opts: DepthDetectorOptions) {
    if (!(opts.width >= 1 && opts.height >= 1 && opts.fovyDeg > 0 && opts.fovyDeg < 180)) {
      throw new TgError('CONFIG_INVALID', 'depth detector: width, height and fovyDeg must be positive');
    }
    if (opts.objects.length === 0) throw new TgError('CONFIG_INVALID', 'depth detector: no objects to find');
    this.objects = opts.objects;
    this.w = opts.width;
    this.h = opts.height;
    this.focal = opts.height / 2 / Math.tan((opts.fovyDeg * Math.PI) / 360);
    this.planeTol = opts.planeToleranceM ?? 0.004;
    this.clusterStep = opts.clusterStepM ?? 0.01;
    this.topTol = opts.topToleranceM ?? 0.004;
    this.sizeTol = opts.sizeToleranceM ?? 0.008;
    this.minPixels = opts.minPixels ?? 6;
    this.maxHeight =
      Math.max(...opts.objects.map((o) => (o.shape === 'box' ? o.sizeM[2] : o.heightM))) + this.sizeTol;
    const n = this.w * this.h;
    this.px = new Float64Array(n);
    this.py = new Float64Array(n);
    this.pz = new Float64Array(n);
    this.range = new Float64Array(n);
    this.ph = new Float64Array(n);
    this.label = new Int32Array(n);
    this.queue = new Int32Array(n);
  }

  /**
   * Finds the catalogued objects in one frame (`depth`: height x width, row-major from the top-left, 0 =
   * no return) seen from a camera at `camPos` with orientation `camMat` (row-major, world from camera).
   * Writes `out[i]` for `objects[i]`: found objects get the pose, `stampSec` and `visible = true`; the
   * others keep their last pose with `visible = false`. Returns the number found.
   */
  detect(
    depth: ArrayLike<number>,
    camPos: ArrayLike<number>,
    camMat: ArrayLike<number>,
    stampSec: number,
    out: readonly ObjectEstimate[],
  ): number {
    if (!this.backProject(depth, camPos, camMat) || !this.fitPlane()) {
      for (let i = 0; i < this.objects.length; i++) out[i]!.visible = false;
      this.clusters = 0;
      return 0;
    }
    this.cluster();
    return this.match(stampSec, out);
  }

  /** World points of the pixels with a return; false when there are too few to work with. */
  private backProject(depth: ArrayLike<number>, p: ArrayLike<number>, R: ArrayLike<number>): boolean {
    const { w, h, focal } = this;
    let valid = 0;
    for (let r = 0; r < h; r++) {
      const ly = -(r + 0.5 - h / 2) / focal;
      for (let c = 0; c < w; c++) {
        const i = r * w + c;
        const d = depth[i]!;
        if (!(d > 0)) {
          this.ph[i] = Number.NaN;
          continue;
        }
        const lx = (c + 0.5 - w / 2) / focal;
        // Camera-frame point (lx d, ly d, -d), then world = p + R x.
        const x = lx * d;
        const y = ly * d;
        const z = -d;
        this.px[i] = p[0]! + R[0]! * x + R[1]! * y + R[2]! * z;
        this.py[i] = p[1]! + R[3]! * x + R[4]! * y + R[5]! * z;
        this.pz[i] = p[2]! + R[6]! * x + R[7]! * y + R[8]! * z;
        this.range[i] = d;
        this.ph[i] = 0;
        valid++;
      }
    }
    return valid >= 3 * this.minPixels;
  }

  /** Support plane through the points near the modal height; fills `ph` with heights above it. */
  private fitPlane(): boolean {
    const n = this.w * this.h;
    let zMin = Infinity;
    let zMax = -Infinity;
    for (let i = 0; i < n; i++) {
      if (Number.isNaN(this.ph[i]!)) continue;
      const z = this.pz[i]!;
      if (z < zMin) zMin = z;
      if (z > zMax) zMax = z;
    }
    const binM = Math.max((zMax - zMin) / HIST_BINS, 1e-6);
    const hist = this.hist;
    hist.fill(0);
    for (let i = 0; i < n; i++) {
      if (Number.isNaN(this.ph[i]!)) continue;
      hist[Math.min(HIST_BINS - 1, Math.floor((this.pz[i]! - zMin) / binM))]!++;
    }
    let best = 0;
    for (let b = 1; b < HIST_BINS; b++) if (hist[b]! > hist[best]!) best = b;
    const mode = zMin + (best + 0.5) * binM;
    const band = Math.max(this.planeTol, binM);
    // Normal equations of z = a x + b y + c over the inliers, in coordinates centred on their mean.
    let m = 0;
    let mx = 0;
    let my = 0;
    let mz = 0;
    for (let i = 0; i < n; i++) {
      if (Number.isNaN(this.ph[i]!) || Math.abs(this.pz[i]! - mode) > band) continue;
      m++;
      mx += this.px[i]!;
      my += this.py[i]!;
      mz += this.pz[i]!;
    }
    if (m < 3) return false;
    mx /= m;
    my /= m;
    mz /= m;
    let sxx = 0;
    let sxy = 0;
    let syy = 0;
    let sxz = 0;
    let syz = 0;
    for (let i = 0; i < n; i++) {
      if (Number.isNaN(this.ph[i]!) || Math.abs(this.pz[i]! - mode) > band) continue;
      const dx = this.px[i]! - mx;
      const dy = this.py[i]! - my;
      const dz = this.pz[i]! - mz;
      sxx += dx * dx;
      sxy += dx * dy;
      syy += dy * dy;
      sxz += dx * dz;
      syz += dy * dz;
    }
    const det = sxx * syy - sxy * sxy;
    let a = 0;
    let b = 0;
    // A degenerate inlier set (a line, a point) fits a horizontal plane.
    if (det > 1e-12 * Math.max(1, sxx * syy)) {
      a = (sxz * syy - syz * sxy) / det;
      b = (syz * sxx - sxz * sxy) / det;
    }
    this.plane[0] = a;
    this.plane[1] = b;
    this.plane[2] = mz - a * mx - b * my;
    for (let i = 0; i < n; i++) {
      if (Number.isNaN(this.ph[i]!)) continue;
      this.ph[i] = this.pz[i]! - (a * this.px[i]! + b * this.py[i]! + this.plane[2]!);
    }
    return true;
  }

  /** 4-connected clusters of object points (breadth-first, contiguous in `queue`), with their top faces. */
  private cluster(): void {
    const { w, h, label, queue, ph } = this;
    const n = w * h;
    label.fill(-1);
    let k = 0;
    let tail = 0;
    for (let seed = 0; seed < n && k < MAX_CLUSTERS; seed++) {
      if (label[seed] !== -1 || !this.isObjectPoint(seed)) continue;
      const start = tail;
      let head = tail;
      queue[tail++] = seed;
      label[seed] = k;
      let top = -Infinity;
      while (head < tail) {
        const i = queue[head++]!;
        const hi = ph[i]!;
        if (hi > top) top = hi;
        const r = (i / w) | 0;
        const c = i - r * w;
        if (c > 0) tail = this.visit(i - 1, hi, k, tail);
        if (c < w - 1) tail = this.visit(i + 1, hi, k, tail);
        if (r > 0) tail = this.visit(i - w, hi, k, tail);
        if (r < h - 1) tail = this.visit(i + w, hi, k, tail);
      }
      if (tail - start < this.minPixels) {
        // Too small: noise. Its pixels stay labelled so they are not seeds again.
        continue;
      }
      this.cStart[k] = start;
      this.cEnd[k] = tail;
      this.cTop[k] = top;
      this.fitTop(k);
      k++;
    }
    this.clusters = k;
  }

  /** Adds pixel j to cluster k when it is an unvisited object point continuous with height hi. */
  private visit(j: number, hi: number, k: number, tail: number): number {
    if (this.label[j] !== -1 || !this.isObjectPoint(j)) return tail;
    if (Math.abs(this.ph[j]! - hi) > this.clusterStep) return tail;
    this.label[j] = k;
    this.queue[tail] = j;
    return tail + 1;
  }

  private isObjectPoint(i: number): boolean {
    const hi = this.ph[i]!;
    return hi > this.planeTol && hi < this.maxHeight;
  }

  /**
   * Cluster k's footprint: the yaw from the top face's fourth-order moment (below), then the top face's
   * bounding rectangle at that yaw gives the centre and the sides.
   */
  private fitTop(k: number): void {
    const s = this.cStart[k]!;
    const e = this.cEnd[k]!;
    const cut = this.cTop[k]! - this.topTol;
    const yaw = this.momentYaw(s, e, cut);
    this.fitRectangle(k, s, e, cut, Math.cos(yaw), Math.sin(yaw));
    this.cYaw[k] = yaw;
  }

  /**
   * Yaw in [0, pi/2) of a rectangular face from its points, through the rotation that minimises
   * E[u^4 + v^4] (u, v: the points' coordinates along and across the candidate yaw, about the centroid).
   * With z = x + iy, u^4 + v^4 = (3|z|^4 + Re(z^4 e^(-4i yaw))) / 4, so the minimum is where
   * 4 yaw = arg E[z^4] - pi: one pass, and every point votes. The minimum-area rectangle, by contrast,
   * rests on a few pixel-quantised hull points (up to ~15 degrees off on a face 7 pixels wide).
   */
  private momentYaw(s: number, e: number, cut: number): number {
    let n = 0;
    let mx = 0;
    let my = 0;
    for (let q = s; q < e; q++) {
      const i = this.queue[q]!;
      if (this.ph[i]! < cut) continue;
      mx += this.px[i]!;
      my += this.py[i]!;
      n++;
    }
    if (n === 0) return 0;
    mx /= n;
    my /= n;
    let re = 0;
    let im = 0;
    for (let q = s; q < e; q++) {
      const i = this.queue[q]!;
      if (this.ph[i]! < cut) continue;
      const x = this.px[i]! - mx;
      const y = this.py[i]! - my;
      // z^2 = (x^2 - y^2) + 2xy i; z^4 = (z^2)^2.
      const r2 = x * x - y * y;
      const i2 = 2 * x * y;
      re += r2 * r2 - i2 * i2;
      im += 2 * r2 * i2;
    }
    let yaw = (Math.atan2(im, re) - Math.PI) / 4;
    while (yaw < 0) yaw += Math.PI / 2;
    return yaw;
  }

  /**
   * Cluster k's top-face rectangle (points of queue[s, e) at or above `cut`) along u = (c, sn) and
   * v = (-sn, c): its centre, its sides, how many points it has and the pixel footprint at the face.
   */
  private fitRectangle(k: number, s: number, e: number, cut: number, c: number, sn: number): void {
    let uMin = Infinity;
    let uMax = -Infinity;
    let vMin = Infinity;
    let vMax = -Infinity;
    let depthSum = 0;
    let m = 0;
    for (let q = s; q < e; q++) {
      const i = this.queue[q]!;
      if (this.ph[i]! < cut) continue;
      const x = this.px[i]!;
      const y = this.py[i]!;
      const u = c * x + sn * y;
      const v = -sn * x + c * y;
      if (u < uMin) uMin = u;
      if (u > uMax) uMax = u;
      if (v < vMin) vMin = v;
      if (v > vMax) vMax = v;
      depthSum += this.range[i]!;
      m++;
    }
    const uc = (uMin + uMax) / 2;
    const vc = (vMin + vMax) / 2;
    this.cX[k] = c * uc - sn * vc;
    this.cY[k] = sn * uc + c * vc;
    this.cA[k] = uMax - uMin;
    this.cB[k] = vMax - vMin;
    // Pixel footprint on the top face: its z-depth over the focal length (in pixels).
    this.cPix[k] = depthSum / Math.max(1, m) / this.focal;
    this.cTopN[k] = m;
  }

  private match(stampSec: number, out: readonly ObjectEstimate[]): number {
    const nC = this.clusters;
    this.cTaken.fill(0);
    let found = 0;
    for (let i = 0; i < this.objects.length; i++) {
      const o = this.objects[i]!;
      const e = out[i]!;
      const hModel = o.shape === 'box' ? o.sizeM[2] : o.heightM;
      const long = o.shape === 'box' ? Math.max(o.sizeM[0], o.sizeM[1]) : 2 * o.radiusM;
      const short = o.shape === 'box' ? Math.min(o.sizeM[0], o.sizeM[1]) : 2 * o.radiusM;
      let best = -1;
      let bestCost = Infinity;
      for (let k = 0; k < nC; k++) {
        if (this.cTaken[k] === 1) continue;
        const dh = Math.abs(this.cTop[k]! - hModel);
        const a = Math.max(this.cA[k]!, this.cB[k]!);
        const b = Math.min(this.cA[k]!, this.cB[k]!);
        // Pixel centres on a face of size L spread over [L - pixel, L]: the error is the distance to that.
        const pix = this.cPix[k]!;
        const da = Math.max(0, long - pix - a, a - long);
        const db = Math.max(0, short - pix - b, b - short);
        // A partly occluded face is too small: better not seen than placed wrong.
        if (dh > this.sizeTol || da > this.sizeTol || db > this.sizeTol) continue;
        // A full face, not a sliver of something else at the right height (a wall seen edge-on): at least
        // half the pixels the model's top face would cover.
        const facePixels = (o.shape === 'box' ? long * short : Math.PI * o.radiusM * o.radiusM) / (pix * pix);
        if (this.cTopN[k]! < 0.5 * facePixels) continue;
        let cost = dh + da + db;
        // Prefer the cluster nearest the last estimate when several fit.
        if (!Number.isNaN(e.stampSec)) {
          const dx = this.cX[k]! - e.pos[0]!;
          const dy = this.cY[k]! - e.pos[1]!;
          cost += 0.1 * Math.sqrt(dx * dx + dy * dy);
        }
        if (cost < bestCost) {
          bestCost = cost;
          best = k;
        }
      }
      if (best < 0) {
        e.visible = false;
        continue;
      }
      this.cTaken[best] = 1;
      const x = this.cX[best]!;
      const y = this.cY[best]!;
      e.pos[0] = x;
      e.pos[1] = y;
      e.pos[2] = this.plane[0]! * x + this.plane[1]! * y + this.plane[2]! + hModel / 2;
      let yaw = 0;
      if (o.shape === 'box') {
        yaw = this.cYaw[best]!;
        // The fitted yaw is the direction of side a; put the model's x side along it.
        const aIsLong = this.cA[best]! >= this.cB[best]!;
        const xIsLong = o.sizeM[0] >= o.sizeM[1];
        if (aIsLong !== xIsLong) yaw += Math.PI / 2;
        // Symmetry: a square footprint is the same every 90 degrees, a rectangle every 180.
        const period = Math.abs(o.sizeM[0] - o.sizeM[1]) < 1e-9 ? Math.PI / 2 : Math.PI;
        yaw -= period * Math.round(yaw / period);
      }
      e.quat[0] = Math.cos(yaw / 2);
      e.quat[1] = 0;
      e.quat[2] = 0;
      e.quat[3] = Math.sin(yaw / 2);
      e.stampSec = stampSec;
      e.visible = true;
      found++;
    }
    return found;
  }
}
