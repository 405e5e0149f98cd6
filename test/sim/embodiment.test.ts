import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { embodimentHash, loadEmbodiment, normalizeMjcf, readMjcf } from '../../src/embodiment/index.ts';
import { isTgError } from '../../src/errors/index.ts';
import { loadMujoco } from '../../src/sim/mujoco.ts';
import { pickPlaceScene } from '../../src/sim/scenes/pick-place.ts';
import { compileScene } from '../../src/sim/scenes/scene.ts';

describe('arm7 embodiment', async () => {
  const mj = await loadMujoco();
  const arm = loadEmbodiment('arm7');
  const model = mj.MjModel.from_xml_string(readMjcf(arm));
  after(() => model.delete());

  test('compiles with 7 arm hinge joints, two finger slides and 8 position actuators', () => {
    const HINGE = mj.mjtJoint.mjJNT_HINGE.value;
    const SLIDE = mj.mjtJoint.mjJNT_SLIDE.value;
    const types = model.jnt_type as Int32Array;
    for (const name of arm.jointNames) {
      const j = mj.mj_name2id(model, mj.mjtObj.mjOBJ_JOINT.value, name);
      assert.ok(j >= 0, `joint ${name}`);
      assert.equal(types[j], HINGE);
    }
    for (const name of ['finger_left', 'finger_right']) {
      const j = mj.mj_name2id(model, mj.mjtObj.mjOBJ_JOINT.value, name);
      assert.equal(types[j], SLIDE);
    }
    assert.equal(arm.jointNames.length, 7);
    assert.equal(model.nu, 8);
    assert.equal(model.opt.timestep, 0.002);
    assert.ok(mj.mj_name2id(model, mj.mjtObj.mjOBJ_SITE.value, 'grip_site') >= 0);
    assert.deepEqual(arm.stateNames, [...arm.jointNames, 'gripper']);
    assert.deepEqual(arm.actionNames, arm.stateNames);
  });

  test('joint ranges and actuator ctrlranges are the declared limits', () => {
    const range = model.jnt_range as Float64Array;
    const ctrl = model.actuator_ctrlrange as Float64Array;
    arm.jointNames.forEach((name, i) => {
      const j = mj.mj_name2id(model, mj.mjtObj.mjOBJ_JOINT.value, name);
      assert.equal(range[2 * j], arm.jointLimits.lower[i], `${name} lower`);
      assert.equal(range[2 * j + 1], arm.jointLimits.upper[i], `${name} upper`);
    });
    arm.actionNames.forEach((name, i) => {
      const a = mj.mj_name2id(model, mj.mjtObj.mjOBJ_ACTUATOR.value, name);
      assert.equal(a, i, `actuator ${name} in canonical order`);
      assert.equal(ctrl[2 * a], arm.jointLimits.lower[i]);
      assert.equal(ctrl[2 * a + 1], arm.jointLimits.upper[i]);
    });
    // Each finger slides half the opening.
    const fl = mj.mj_name2id(model, mj.mjtObj.mjOBJ_JOINT.value, 'finger_left');
    assert.equal(2 * range[2 * fl + 1]!, arm.jointLimits.upper[7]);
  });

  test('home pose is within limits', () => {
    arm.home.forEach((v, i) => {
      assert.ok(v >= arm.jointLimits.lower[i]! && v <= arm.jointLimits.upper[i]!, `channel ${i}`);
    });
  });

  test('hash is sha256 hex, stable, and ignores comments and whitespace', () => {
    const h = embodimentHash(arm);
    assert.match(h, /^[0-9a-f]{64}$/);
    assert.equal(embodimentHash(loadEmbodiment('arm7')), h);
    assert.equal(normalizeMjcf('<a>\n  <!-- x -->\n  <b/>\n</a>'), normalizeMjcf('<a><b/></a>'));
    assert.notEqual(normalizeMjcf('<a x="1"/>'), normalizeMjcf('<a x="2"/>'));
  });

  test('unknown embodiment is NOT_FOUND', () => {
    assert.throws(
      () => loadEmbodiment('nope' as 'arm7'),
      (e) => isTgError(e) && e.code === 'NOT_FOUND',
    );
  });

  test('pick-place scene includes the arm and adds a free cube', () => {
    const scene = compileScene(mj, pickPlaceScene(arm));
    try {
      assert.equal(scene.nq, model.nq + 7);
      assert.equal(scene.nu, 8);
      assert.ok(mj.mj_name2id(scene, mj.mjtObj.mjOBJ_BODY.value, 'bin') >= 0);
    } finally {
      scene.delete();
    }
  });
});
