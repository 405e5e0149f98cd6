import type { DoubleBuffer, MjData, MjModel, Mujoco } from './mujoco.ts';

/*
 * A site's pose and its Jacobian restricted to a set of DoF columns (an arm inside a larger model). The
 * caller refreshes kinematics (mj_kinematics + mj_comPos) after mj_step first: mj_step leaves derived
 * quantities at the start of the step. Neither function allocates when given live views (they run at the
 * control rate; each MjData getter or GetView call creates a new view).
 */

/** Live views of `site_xpos` / `site_xmat`, or the MjData to fetch them from. */
export type SiteViews = { siteXpos: Float64Array; siteXmat: Float64Array } | MjData;

/** `pos` (3) and `mat` (3x3 row-major, columns are the site's axes in world). */
export function readSitePose(d: SiteViews, site: number, pos: Float64Array, mat: Float64Array): void {
  const xpos = ('siteXpos' in d ? d.siteXpos : d.site_xpos) as Float64Array;
  const xmat = ('siteXmat' in d ? d.siteXmat : d.site_xmat) as Float64Array;
  for (let i = 0; i < 3; i++) pos[i] = xpos[3 * site + i]!;
  for (let i = 0; i < 9; i++) mat[i] = xmat[9 * site + i]!;
}

/**
 * `out` (6 x dofs.length row-major: 3 translational rows, then 3 rotational); `jacp`/`jacr` are 3*nv output
 * buffers owned by the caller (MuJoCo WASM ignores plain typed arrays as outputs).
 */
export function readSiteJacobian(
  mj: Mujoco,
  m: MjModel,
  d: MjData,
  site: number,
  dofs: ArrayLike<number>,
  buffers: { jacp: DoubleBuffer; jacr: DoubleBuffer },
  out: Float64Array,
  /** Live views of the buffers and the model's nv, when the caller keeps them. */
  views?: { jacp: Float64Array; jacr: Float64Array; nv: number },
): void {
  mj.mj_jacSite(m, d, buffers.jacp, buffers.jacr, site);
  const jp = views?.jacp ?? (buffers.jacp.GetView() as Float64Array);
  const jr = views?.jacr ?? (buffers.jacr.GetView() as Float64Array);
  const nv = views?.nv ?? m.nv;
  const n = dofs.length;
  for (let r = 0; r < 3; r++) {
    for (let j = 0; j < n; j++) {
      const col = dofs[j]!;
      out[r * n + j] = jp[r * nv + col]!;
      out[(r + 3) * n + j] = jr[r * nv + col]!;
    }
  }
}
