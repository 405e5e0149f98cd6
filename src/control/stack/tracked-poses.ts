/**
 * The true poses perception's simulated object tracker samples (src/control/perception/sim-objects.ts):
 * body or site frames of a SceneWorld, each optionally moved by an offset in its own frame (a cup's centre
 * above its bottom, a slot inside a box). Reading allocates nothing.
 */
import type { SceneWorld } from '../../sim/scenes/scene-world.ts';
import { matToQuat, type ObjectPoseSource } from '../perception/index.ts';
import type { TrackedPose } from './arm-scenes.ts';

export function trackedPoseSource(world: SceneWorld, tracked: readonly TrackedPose[]): ObjectPoseSource {
  const n = tracked.length;
  const isSite = new Uint8Array(n);
  const ids = Int32Array.from(tracked, (t, i) => {
    if (t.site !== undefined) {
      isSite[i] = 1;
      return world.id('site', t.site);
    }
    return world.id('body', t.body ?? t.name);
  });
  const offsets = new Float64Array(3 * n);
  for (let i = 0; i < n; i++) offsets.set(tracked[i]!.offsetM ?? [0, 0, 0], 3 * i);
  const d = world.data;
  // Live views, fetched again only once the WASM heap grew.
  let xpos = d.xpos as Float64Array;
  let xmat = d.xmat as Float64Array;
  let xquat = d.xquat as Float64Array;
  let sitePos = d.site_xpos as Float64Array;
  let siteMat = d.site_xmat as Float64Array;
  return {
    names: tracked.map((t) => t.name),
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
