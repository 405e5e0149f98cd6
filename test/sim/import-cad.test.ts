import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { compileImported, EmbodimentRegistry, importRobot } from '../../src/embodiment/import/index.ts';
import { isTgError } from '../../src/errors/index.ts';
import { loadMujoco, type MjModel } from '../../src/sim/mujoco.ts';
import { CAD_ARM_MIMIC, CAD_ARM_SERVOS, writeCadArm } from './fixtures/cad-arm.ts';

/**
 * Holds the servos at `fraction` of their control ranges for `seconds`; returns the largest tracking error
 * (rad or m), how often MuJoCo reset a diverged state, and the mimic finger's offset from its leader.
 */
async function hold(model: MjModel, fraction: number, seconds = 1.5) {
  const mj = await loadMujoco();
  const d = new mj.MjData(model);
  try {
    const range = model.actuator_ctrlrange as Float64Array;
    const trn = model.actuator_trnid as Int32Array;
    const adr = model.jnt_qposadr as Int32Array;
    const ctrl = d.ctrl as Float64Array;
    for (let a = 0; a < model.nu; a++)
      ctrl[a] = range[2 * a]! + fraction * (range[2 * a + 1]! - range[2 * a]!);
    let resets = 0;
    for (let i = 0; i < Math.round(seconds / model.opt.timestep); i++) {
      const t = d.time;
      mj.mj_step(model, d);
      if (d.time < t) resets++; // MuJoCo's automatic reset after a bad acceleration rewinds the clock
    }
    const qpos = d.qpos as Float64Array;
    const c = d.ctrl as Float64Array;
    let error = 0;
    for (let a = 0; a < model.nu; a++) error = Math.max(error, Math.abs(qpos[adr[trn[2 * a]!]!]! - c[a]!));
    const joint = (n: string) => qpos[adr[mj.mj_name2id(model, mj.mjtObj.mjOBJ_JOINT.value, n)]!]!;
    return { error, resets, mimicOffset: Math.abs(joint(CAD_ARM_MIMIC) - joint('finger_left')) };
  } finally {
    d.delete();
  }
}

describe('import of a CAD-exported URDF package (ros2_control, mimic, SolidWorks STL, concave parts)', () => {
  const tmp = mkdtempSync(path.join(tmpdir(), 'tg-import-cad-'));
  after(() => rmSync(tmp, { recursive: true, force: true }));
  const urdf = writeCadArm(tmp);

  test('imports: actuators from ros2_control, none on the mimic finger, COLLADA visual dropped with a warning', async () => {
    const r = await importRobot(path.join(tmp, 'cad_arm_description'));
    assert.equal(r.name, 'cad_arm');
    assert.equal(r.format, 'urdf');
    assert.deepEqual(
      r.canonicalMap.actuators.map((a) => [a.name, a.kind]),
      CAD_ARM_SERVOS.map((j) => [j, 'position']),
    );
    assert.ok(r.canonicalMap.joints.some((j) => j.name === CAD_ARM_MIMIC));
    assert.ok(r.files.has('meshes/Base Link.STL'), [...r.files.keys()].join(', '));
    assert.ok(r.warnings.some((w) => /base_visual\.dae dropped/.test(w)));
    // Fixed frames stay bodies (a tool flange a skill can put its grip site on).
    assert.match(r.compiledXml, /<body name="tool0"/);
  });

  test('binary STL whose header starts with "solid" is read as binary (the right size)', async () => {
    const mj = await loadMujoco();
    const model = await compileImported(await importRobot(urdf));
    try {
      // The base is a 10 x 10 x 5 cm box: its mesh geom's bounding radius is half the diagonal.
      const geom = (model.body_geomadr as Int32Array)[
        mj.mj_name2id(model, mj.mjtObj.mjOBJ_BODY.value, 'base_link')
      ]!;
      const rbound = (model.geom_rbound as Float64Array)[geom + 1]!;
      assert.ok(Math.abs(rbound - Math.hypot(0.05, 0.05, 0.025)) < 1e-3, `rbound ${rbound}`);
    } finally {
      model.delete();
    }
  });

  test('light links get servo armature and overlapping hulls a contact exclusion, each with a warning', async () => {
    const r = await importRobot(urdf);
    for (const j of ['pan', 'lift', 'elbow', 'wrist']) {
      assert.ok(
        r.warnings.some((w) => w.includes(`joint ${j}: armature`)),
        `${j}: ${r.warnings.join('\n')}`,
      );
    }
    assert.ok(
      !r.warnings.some((w) => w.includes('joint finger_left: armature')),
      'heavy enough for its servo',
    );
    const excluded = r.warnings.find((w) => w.includes('self-collision off'));
    assert.ok(excluded?.includes('base_link/shoulder'), excluded);
    assert.ok(excluded?.includes('forearm/finger_left_link'), excluded);
    assert.match(r.compiledXml, /integrator="implicitfast"/);
  });

  test('the registered copy simulates: servos hold commanded poses, the mimic finger follows', async () => {
    const registry = new EmbodimentRegistry(path.join(tmp, 'registry'));
    const stored = registry.register(await importRobot(urdf));
    const model = await compileImported(registry.load(stored.id.slice(0, 10)));
    try {
      for (const fraction of [0.5, 0.3, 0.7]) {
        const h = await hold(model, fraction);
        assert.equal(h.resets, 0, `diverged at ${fraction}`);
        assert.ok(h.error < 0.01, `tracking error ${h.error} at ${fraction} of the ranges`);
        assert.ok(h.mimicOffset < 1e-3, `mimic finger ${h.mimicOffset} m off its leader`);
      }
    } finally {
      model.delete();
    }
  });

  test('without the added physics the same model diverges or jams (what the completion is for)', async () => {
    const r = await importRobot(urdf);
    const bare = r.compiledXml
      .replace(/ armature="[^"]*"/g, '')
      .replace(/<contact>[\s\S]*?<\/contact>/, '')
      .replace(/ integrator="implicitfast"/, '');
    const model = await compileImported({ ...r, compiledXml: bare });
    try {
      const h = await hold(model, 0.3);
      assert.ok(h.resets > 0 || h.error > 0.05, JSON.stringify(h));
    } finally {
      model.delete();
    }
  });

  test('a ros2_control joint that the URDF does not define is named in the error', async () => {
    const bad = writeCadArm(path.join(tmp, 'bad'), { controlJoint: 'turret' });
    await assert.rejects(importRobot(bad), (e: unknown) => {
      assert.ok(isTgError(e));
      assert.equal(e.code, 'MODEL_INVALID');
      assert.match(
        e.message,
        /cad_arm\.urdf: ros2_control CadArmSystem: actuator on unknown joint 'turret' \(line \d+\)/,
      );
      return true;
    });
  });
});
