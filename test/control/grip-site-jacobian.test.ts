/**
 * SceneWorld.gripSite computes the arm's Jacobian columns in JS from the joints' world axes and anchors
 * (no mj_comPos / mj_jacSite): they must be MuJoCo's, for any configuration, after steps and after resets.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { loadMujoco } from '../../src/sim/mujoco.ts';
import { seededRng } from '../../src/sim/rng.ts';
import { pickPlaceScene } from '../../src/sim/scenes/pick-place.ts';
import { SceneWorld } from '../../src/sim/scenes/scene-world.ts';
import { readSiteJacobian } from '../../src/sim/site-frame.ts';

describe('SceneWorld.gripSite Jacobian', () => {
  test('matches mj_jacSite (after mj_kinematics + mj_comPos) to rounding', async () => {
    const mj = await loadMujoco();
    const w = new SceneWorld(mj, pickPlaceScene());
    try {
      const rng = seededRng(7);
      const site = w.id('site', 'grip_site');
      const dofs = Int32Array.from({ length: w.armDof }, (_, i) => w.dofAdr(`j${i + 1}`));
      const pos = new Float64Array(3);
      const mat = new Float64Array(9);
      const jac = new Float64Array(6 * w.armDof);
      const ref = new Float64Array(6 * w.armDof);
      let worst = 0;
      let nonzero = 0;
      for (let k = 0; k < 50; k++) {
        const state = Array.from({ length: w.stateDim }, (_, i) =>
          i < w.armDof ? 2.4 * (rng.next() - 0.5) : 0.04 * rng.next(),
        );
        w.resetData();
        w.setArmState(state);
        w.forward();
        w.step(1 + (k % 3));
        w.gripSite(pos, mat, jac);
        // MuJoCo's own: positions after the steps, then the Jacobian at the site.
        mj.mj_kinematics(w.model, w.data);
        mj.mj_comPos(w.model, w.data);
        readSiteJacobian(mj, w.model, w.data, site, dofs, w, ref);
        const sitePos = (w.data.site_xpos as Float64Array).slice(3 * site, 3 * site + 3);
        for (let i = 0; i < 3; i++) assert.equal(pos[i], sitePos[i]);
        for (let i = 0; i < jac.length; i++) {
          worst = Math.max(worst, Math.abs(jac[i]! - ref[i]!));
          if (Math.abs(ref[i]!) > 1e-3) nonzero++;
        }
      }
      assert.ok(worst < 1e-12, `largest difference ${worst}`);
      assert.ok(nonzero > 50 * 20, 'the Jacobians compared are not trivial');
    } finally {
      w.dispose();
    }
  });

  test('a scene without an arm refuses', async () => {
    const mj = await loadMujoco();
    const w = new SceneWorld(mj, {
      name: 'empty',
      xml: '<mujoco><worldbody><geom type="plane" size="1 1 0.1"/></worldbody></mujoco>',
      files: {},
    });
    try {
      assert.throws(
        () => w.gripSite(new Float64Array(3), new Float64Array(9), new Float64Array(0)),
        /no arm/,
      );
    } finally {
      w.dispose();
    }
  });
});
