/**
 * The arm's motion primitives in MuJoCo: move_to (differential IK with joint limits), home and joint_pd
 * (joint PD / impedance), the registry's validation, and what every skill does with a NaN observation.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ARM_SKILLS, ArmSkills, armProfile } from '../../src/control/cerebellum/index.ts';
import { SKILL_NAMES } from '../../src/control/vocabulary.ts';
import { isTgError } from '../../src/errors/index.ts';
import { ARM7, type ArmRig, pickPlaceRig } from './fixtures/arm-rig.ts';

const CUBE = { x: 0.45, y: -0.15, yaw: 0 };

function sitePose(rig: ArmRig): { pos: Float64Array; mat: Float64Array } {
  const pos = new Float64Array(3);
  const mat = new Float64Array(9);
  rig.world.gripSite(pos, mat);
  return { pos, mat };
}

describe('arm motion skills', () => {
  test('move_to reaches the goal with the gripper down, then home returns', async () => {
    const rig = await pickPlaceRig(CUBE);
    try {
      const goal = [0.35, 0.2, 0.25];
      const r = rig.run({ skill: 'move_to', args: { position: goal } }, 8);
      assert.equal(r.status, 'succeeded', r.failure ?? '');
      rig.idle(0.2);
      const { pos, mat } = sitePose(rig);
      const err = Math.hypot(pos[0]! - goal[0]!, pos[1]! - goal[1]!, pos[2]! - goal[2]!);
      assert.ok(err < 0.006, `grip site ${err} m from the goal`);
      assert.ok(mat[8]! < -0.998, `gripper axis z = ${mat[8]} (pointing down)`);
      const home = rig.run({ skill: 'home', args: {} }, 8);
      assert.equal(home.status, 'succeeded', home.failure ?? '');
      const q = new Float64Array(8);
      rig.world.readState(q);
      for (let i = 0; i < 7; i++) assert.ok(Math.abs(q[i]! - ARM7.home[i]!) < 0.012, `joint ${i + 1} home`);
      assert.equal(rig.spine.stats.interventions, 0);
    } finally {
      rig.dispose();
    }
  });

  test('move_to fails on goals outside the workspace and out of reach, inside the joint limits', async () => {
    const rig = await pickPlaceRig(CUBE);
    try {
      const out = rig.run({ skill: 'move_to', args: { position: [0.4, 0, 1.5] } }, 1);
      assert.equal(out.status, 'failed');
      assert.match(out.failure!, /outside the workspace/);
      const profile = armProfile(ARM7);
      let worstMargin = Number.POSITIVE_INFINITY;
      const far = rig.run({ skill: 'move_to', args: { position: [0.89, 0.35, 0.05] } }, 12, (r) => {
        for (let i = 0; i < 7; i++) {
          const m = Math.min(r.next[i]! - profile.lower[i]!, profile.upper[i]! - r.next[i]!);
          worstMargin = Math.min(worstMargin, m);
        }
      });
      assert.equal(far.status, 'failed');
      assert.match(far.failure!, /did not reach \(0\.890, 0\.350, 0\.050\) in .* s: .* mm away/);
      assert.ok(worstMargin >= 0.02, `commands stay inside the joint limits (margin ${worstMargin} rad)`);
      assert.equal(rig.spine.stats.clamped, 0);
    } finally {
      rig.dispose();
    }
  });

  test('joint impedance: a lower stiffness yields proportionally more to the same push', async () => {
    const deflection = async (stiffness: number) => {
      const rig = await pickPlaceRig(CUBE);
      try {
        const hand = rig.world.id('body', 'arm7/hand');
        const push = (r: ArmRig) => {
          r.world.xfrcApplied[6 * hand + 2] = -20; // 20 N down at the hand
        };
        const r = rig.run(
          {
            skill: 'joint_pd',
            args: { q: ARM7.home.slice(0, 7), stiffness, toleranceRad: 0, timeoutSec: 60 },
          },
          2.5,
          push,
        );
        assert.equal(r.status, 'running', 'still regulating (tolerance unreachable on purpose)');
        const q = new Float64Array(8);
        rig.world.readState(q);
        return Math.abs(q[1]! - ARM7.home[1]!); // j2, the shoulder pitch, carries the push
      } finally {
        rig.dispose();
      }
    };
    const stiff = await deflection(1);
    const soft = await deflection(0.2);
    assert.ok(stiff > 0.001, `stiff deflection ${stiff} rad`);
    const ratio = soft / stiff;
    assert.ok(ratio > 3.5 && ratio < 6.5, `soft/stiff deflection ${soft}/${stiff} = ${ratio} (expected ~5)`);
  });

  test('joint_pd refuses goals outside the limits or of the wrong size', async () => {
    const rig = await pickPlaceRig(CUBE);
    try {
      const bad = rig.run({ skill: 'joint_pd', args: { q: [0, 0, 0, 3, 0, 0, 0] } }, 1);
      assert.equal(bad.status, 'failed');
      assert.match(bad.failure!, /joint 3 goal 3 is outside \[-2\.5, 2\.5\]/);
      const short = rig.run({ skill: 'joint_pd', args: { q: [0, 0] } }, 1);
      assert.equal(short.status, 'failed');
      assert.match(short.failure!, /goal has 2 joint positions, the arm has 7/);
    } finally {
      rig.dispose();
    }
  });

  test('NaN in the joint state fails any running skill and the command holds, finite', async () => {
    const rig = await pickPlaceRig(CUBE);
    try {
      const state = rig.perception.state;
      const cmd = new Float64Array(8);
      for (const call of [
        { skill: 'move_to', args: { position: [0.4, 0.1, 0.3] } },
        { skill: 'pick', args: { object: 'cube' } },
        { skill: 'joint_pd', args: { q: [0.3, 0.4, 0, 1.6, 0, 1.1, 0] } },
      ]) {
        const skill = rig.skills.start(call, state);
        for (let i = 0; i < 5; i++) assert.equal(skill.step(state, cmd), 'running');
        const held = Float64Array.from(cmd);
        const saved = state.qd[2]!;
        state.qd[2] = Number.NaN;
        assert.equal(skill.step(state, cmd), 'failed', call.skill);
        assert.match(skill.failure!, new RegExp(`^${call.skill}: non-finite joint state`));
        assert.deepEqual(Array.from(cmd), Array.from(held));
        // Stepped again (still NaN): still failed, still the same finite command.
        assert.equal(skill.step(state, cmd), 'failed');
        assert.deepEqual(Array.from(cmd), Array.from(held));
        state.qd[2] = saved;
      }
    } finally {
      rig.dispose();
    }
  });

  test('after the arm was moved by something else, or a reset, the next skill starts from where it is', async () => {
    const rig = await pickPlaceRig(CUBE);
    try {
      assert.equal(
        rig.run({ skill: 'move_to', args: { position: [0.35, 0.2, 0.25] } }, 8).status,
        'succeeded',
      );
      // Teleoperation (or a world reset) puts the arm back home behind the skills' back.
      const moved = () => {
        rig.world.setArmState(ARM7.home);
        rig.world.forward();
        rig.sense();
      };
      const firstCommandOffset = (): number => {
        const state = rig.perception.state;
        const skill = rig.skills.start(
          { skill: 'joint_pd', args: { q: [0.1, 0.4, 0, 1.6, 0, 1.14, 0] } },
          state,
        );
        const cmd = new Float64Array(8);
        skill.step(state, cmd);
        let worst = 0;
        for (let i = 0; i < 8; i++) worst = Math.max(worst, Math.abs(cmd[i]! - state.q[i]!));
        return worst;
      };
      moved();
      assert.ok(firstCommandOffset() < 0.01, 'stale command re-seeded from the measured state');
      rig.skills.reset();
      assert.equal(rig.skills.context.held, null);
      moved();
      assert.ok(firstCommandOffset() < 0.01, 'after reset');
    } finally {
      rig.dispose();
    }
  });

  test('the registry implements the arm vocabulary and validates plan steps', async () => {
    const rig = await pickPlaceRig(CUBE);
    try {
      for (const name of ARM_SKILLS) {
        assert.ok(SKILL_NAMES.includes(name));
        assert.ok(rig.skills.get(name), name);
      }
      assert.equal(rig.skills.get('walk_to'), undefined, 'an arm does not walk');
      const state = rig.perception.state;
      assert.throws(
        () => rig.skills.start({ skill: 'walk_to', args: { x: 1, y: 0 } }, state),
        (e) => isTgError(e) && e.code === 'NOT_FOUND' && /no skill 'walk_to'/.test(e.message),
      );
      assert.throws(
        () => rig.skills.start({ skill: 'pick', args: { object: 3 } }, state),
        (e) =>
          isTgError(e) && e.code === 'INPUT_INVALID' && /skill 'pick': argument 'object'/.test(e.message),
      );
      assert.throws(
        () => rig.skills.start({ skill: 'move_to', args: { position: [1, 2] } }, state),
        (e) => isTgError(e) && e.code === 'INPUT_INVALID' && /argument 'position'/.test(e.message),
      );
      assert.throws(
        () => rig.skills.start({ skill: 'home', args: { fast: true } }, state),
        (e) => isTgError(e) && e.code === 'INPUT_INVALID' && /skill 'home': argument 'fast'/.test(e.message),
      );
      const kin = { armDof: 6, actionDim: 7, gripSite() {} };
      assert.throws(
        () => new ArmSkills({ profile: armProfile(ARM7), kinematics: kin, controlDtSec: 0.004 }),
        (e) => isTgError(e) && e.code === 'CONFIG_INVALID' && /kinematics has 6 arm joints/.test(e.message),
      );
      assert.throws(
        () => new ArmSkills({ profile: armProfile(ARM7), kinematics: rig.world, controlDtSec: 0 }),
        (e) => isTgError(e) && /controlDtSec 0/.test(e.message),
      );
    } finally {
      rig.dispose();
    }
  });
});
