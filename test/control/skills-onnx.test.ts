/**
 * Learned skills: a real ONNX model (built byte by byte, test/control/fixtures/onnx-model.ts) run through
 * onnxruntime-node as a cerebellum skill driving arm7's first joint in MuJoCo, and its failure paths.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import {
  ArmSkills,
  armProfile,
  OnnxPolicy,
  type PolicySkillSpec,
} from '../../src/control/cerebellum/index.ts';
import { isTgError } from '../../src/errors/index.ts';
import { ARM7, pickPlaceRig } from './fixtures/arm-rig.ts';
import { linearPolicyOnnx } from './fixtures/onnx-model.ts';

/** obs = [q (8), goal (1)] -> a = gain (goal - q0): a proportional controller on joint 1, as a network. */
function reachPolicy(gain: number, bias = 0): OnnxPolicy {
  const w = new Array(9).fill(0);
  w[0] = -gain;
  w[8] = gain;
  return OnnxPolicy.fromBytes(linearPolicyOnnx({ weights: w, bias: [bias], obsDim: 9, actDim: 1 }), {
    name: 'reach',
  });
}

function reachSpec(policy: OnnxPolicy, name = 'reach_j1'): PolicySkillSpec {
  return {
    name,
    policy,
    observation: ['q', 'goal'],
    goalDim: 1,
    action: { mode: 'joint_delta', channels: [0], scale: 1 },
  };
}

describe('ONNX policy skills', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'tg-onnx-'));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test('the session computes observation @ W + b, synchronously, into the same buffer', async () => {
    const file = path.join(dir, 'lin.onnx');
    writeFileSync(
      file,
      linearPolicyOnnx({ weights: [1, 2, 3, 4, 5, 6], bias: [0.5, -0.5], obsDim: 3, actDim: 2 }),
    );
    const p = await OnnxPolicy.load(file);
    try {
      assert.equal(p.obsDim, 3);
      assert.equal(p.actDim, 2);
      const action = p.action;
      p.observation.set([1, -2, 0.25]);
      p.run();
      // W is [3 x 2] row-major: a_j = sum_i x_i W[i, j] + b_j.
      assert.deepEqual(Array.from(p.action), [1 - 6 + 1.25 + 0.5, 2 - 8 + 1.5 - 0.5]);
      assert.equal(p.action, action, 'the output buffer is reused');
      p.observation.set([0, 0, 1]);
      p.run();
      assert.deepEqual(Array.from(p.action), [5.5, 5.5]);
    } finally {
      p.dispose();
    }
    assert.throws(() => p.run(), /disposed/);
  });

  test('bad models and bad files fail with the reason', async () => {
    assert.throws(
      () => OnnxPolicy.fromBytes(Uint8Array.of(1, 2, 3, 4), { name: 'junk' }),
      (e) =>
        isTgError(e) &&
        e.code === 'INPUT_INVALID' &&
        /policy 'junk' is not a loadable ONNX model/.test(e.message),
    );
    await assert.rejects(
      OnnxPolicy.load(path.join(dir, 'missing.onnx')),
      (e) => isTgError(e) && e.code === 'NOT_FOUND',
    );
    const bytes = linearPolicyOnnx({ weights: [1, 2], bias: [0], obsDim: 2, actDim: 1 });
    assert.throws(
      () => OnnxPolicy.fromBytes(bytes, { inputName: 'nope' }),
      (e) => isTgError(e) && /has no input 'nope' \(has observation\)/.test(e.message),
    );
    // Observation terms that do not add up to the model's input width are refused when the skill is built.
    const pp = OnnxPolicy.fromBytes(bytes);
    const kin = { armDof: 7, actionDim: 8, gripSite() {} };
    assert.throws(
      () =>
        new ArmSkills({
          profile: armProfile(ARM7),
          kinematics: kin,
          controlDtSec: 0.004,
          policies: [{ ...reachSpec(pp), observation: ['q'] }],
        }),
      (e) =>
        isTgError(e) && e.code === 'CONFIG_INVALID' && /make 8 values, policy .* takes 2/.test(e.message),
    );
    pp.dispose();
  });

  test('a learned skill drives joint 1 to its goal in MuJoCo', async () => {
    const policy = reachPolicy(0.5);
    const rig = await pickPlaceRig(
      { x: 0.45, y: -0.1, yaw: 0 },
      { skills: { policies: [reachSpec(policy)] } },
    );
    try {
      const q0 = Float64Array.from(rig.perception.state.q);
      const r = rig.run(
        { skill: 'reach_j1', args: { target: [0.6], toleranceRad: 0.01, durationSec: 4 } },
        5,
      );
      assert.equal(r.status, 'succeeded', r.failure ?? '');
      const q = new Float64Array(8);
      rig.world.readState(q);
      assert.ok(Math.abs(q[0]! - 0.6) < 0.02, `j1 at ${q[0]}`);
      for (let i = 1; i < 7; i++) assert.ok(Math.abs(q[i]! - q0[i]!) < 0.01, `joint ${i + 1} stayed put`);
      const skill = rig.skills.get('reach_j1') as unknown as { inferences: number };
      assert.ok(skill.inferences > 50, `${skill.inferences} inferences`);
      assert.equal(rig.spine.stats.interventions, 0);
    } finally {
      rig.dispose();
      policy.dispose();
    }
  });

  test('NaN in the observation fails the skill and the command stays finite', async () => {
    const policy = reachPolicy(0.5);
    // This one also observes the cube, which the camera cannot see (view limited to y < -0.3).
    const w = new Array(12).fill(0);
    w[0] = -0.5;
    w[8] = 0.5;
    const withCube = OnnxPolicy.fromBytes(linearPolicyOnnx({ weights: w, bias: [0], obsDim: 12, actDim: 1 }));
    const rig = await pickPlaceRig(
      { x: 0.45, y: -0.1, yaw: 0 },
      {
        objectNoise: { view: { min: [-1, -1, -1], max: [1, -0.3, 1] } },
        skills: {
          policies: [
            reachSpec(policy),
            { ...reachSpec(withCube, 'reach_seeing_cube'), observation: ['q', 'goal', { object: 'cube' }] },
          ],
        },
      },
    );
    try {
      const state = rig.perception.state;
      const skill = rig.skills.start({ skill: 'reach_j1', args: { target: [0.6] } }, state);
      const cmd = new Float64Array(8);
      assert.equal(skill.step(state, cmd), 'running');
      const held = Float64Array.from(cmd);
      const q3 = state.q[3]!;
      state.q[3] = Number.NaN;
      assert.equal(skill.step(state, cmd), 'failed');
      assert.match(skill.failure!, /non-finite joint state/);
      assert.ok(
        cmd.every((x) => Number.isFinite(x)),
        'no NaN command',
      );
      assert.deepEqual(Array.from(cmd), Array.from(held), 'holds the last command');
      state.q[3] = q3;
      const r = rig.run({ skill: 'reach_seeing_cube', args: { target: [0.6] } }, 1);
      assert.equal(r.status, 'failed');
      assert.match(r.failure!, /non-finite observation \(object cube\)/);
      assert.ok(rig.next.every((x) => Number.isFinite(x)));
    } finally {
      rig.dispose();
      policy.dispose();
      withCube.dispose();
    }
  });

  test('a policy that outputs NaN fails instead of commanding it', async () => {
    const policy = reachPolicy(0.5, Number.NaN);
    const rig = await pickPlaceRig(
      { x: 0.45, y: -0.1, yaw: 0 },
      { skills: { policies: [reachSpec(policy)] } },
    );
    try {
      const before = Float64Array.from(rig.next);
      const r = rig.run({ skill: 'reach_j1', args: { target: [0.6] } }, 1);
      assert.equal(r.status, 'failed');
      assert.match(r.failure!, /produced a non-finite action/);
      for (let i = 0; i < 8; i++) assert.ok(Math.abs(rig.next[i]! - before[i]!) < 1e-9);
      assert.equal(rig.spine.stats.rejectedNonFinite, 0, 'nothing non-finite reached the spine');
    } finally {
      rig.dispose();
      policy.dispose();
    }
  });
});
