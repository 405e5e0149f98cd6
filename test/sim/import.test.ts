import assert from 'node:assert/strict';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { inferCanonicalMap } from '../../src/embodiment/canonical-map.ts';
import { EmbodimentRegistry, importRobot } from '../../src/embodiment/import/index.ts';
import { loadEmbodiment, readMjcf } from '../../src/embodiment/index.ts';
import { isTgError } from '../../src/errors/index.ts';
import { loadMujoco } from '../../src/sim/mujoco.ts';
import { binaryStl, boxTriangles, obj } from './fixtures/meshes.ts';

const inertial = (mass: number) =>
  `<inertial><origin xyz="0 0 0.1"/><mass value="${mass}"/>` +
  `<inertia ixx="0.01" iyy="0.01" izz="0.01" ixy="0" ixz="0" iyz="0"/></inertial>`;

interface UrdfOptions {
  upperArmMesh?: string;
  transmissions?: boolean;
  wristLimit?: boolean;
  badTransmissionJoint?: string;
  malformed?: boolean;
}

/** A ROS-style package: urdf/ and meshes/ folders, meshes referenced by package:// and relative paths. */
function writeUrdfPackage(root: string, o: UrdfOptions = {}): string {
  const pkg = path.join(root, 'demo_arm');
  mkdirSync(path.join(pkg, 'urdf'), { recursive: true });
  mkdirSync(path.join(pkg, 'meshes', 'visual'), { recursive: true });
  mkdirSync(path.join(pkg, 'meshes', 'collision'), { recursive: true });
  writeFileSync(path.join(pkg, 'meshes', 'visual', 'base.obj'), obj(boxTriangles(0.1, 0.1, 0.05)));
  writeFileSync(path.join(pkg, 'meshes', 'collision', 'base.stl'), binaryStl(boxTriangles(0.1, 0.1, 0.05)));
  writeFileSync(path.join(pkg, 'meshes', 'visual', 'upper_arm.obj'), obj(boxTriangles(0.04, 0.04, 0.15)));
  writeFileSync(
    path.join(pkg, 'meshes', 'collision', 'upper_arm.stl'),
    binaryStl(boxTriangles(0.04, 0.04, 0.15)),
  );
  writeFileSync(
    path.join(pkg, 'meshes', 'collision', 'forearm.stl'),
    binaryStl(boxTriangles(0.03, 0.03, 0.12)),
  );
  const upper = o.upperArmMesh ?? 'package://demo_arm/meshes/collision/upper_arm.stl';
  const transmission = (name: string, joint: string, iface: string) =>
    `<transmission name="${name}"><type>transmission_interface/SimpleTransmission</type>` +
    `<joint name="${joint}"><hardwareInterface>hardware_interface/${iface}</hardwareInterface></joint>` +
    `<actuator name="${name}_motor"><mechanicalReduction>1</mechanicalReduction></actuator></transmission>`;
  const urdf = `<?xml version="1.0"?>
<!-- demo arm: 3 links with meshes, a gripper finger -->
<robot name="demo_arm">
  <link name="base_link">${inertial(2)}
    <visual><geometry><mesh filename="package://demo_arm/meshes/visual/base.obj"/></geometry></visual>
    <collision><geometry><mesh filename="package://demo_arm/meshes/collision/base.stl"/></geometry></collision>
  </link>
  <link name="upper_arm">${inertial(1)}
    <visual><origin xyz="0 0 0.15"/><geometry><mesh filename="../meshes/visual/upper_arm.obj"/></geometry></visual>
    <collision><origin xyz="0 0 0.15"/><geometry><mesh filename="${upper}"/></geometry></collision>
  </link>
  <link name="forearm">${inertial(0.8)}
    <collision><origin xyz="0 0 0.12"/><geometry><mesh filename="package://demo_arm/meshes/collision/forearm.stl" scale="1 1 1"/></geometry></collision>
  </link>
  <link name="finger">${inertial(0.1)}
    <collision><geometry><box size="0.01 0.02 0.04"/></geometry></collision>
  </link>
  <joint name="shoulder" type="revolute">
    <parent link="base_link"/><child link="upper_arm"/><origin xyz="0 0 0.05"/><axis xyz="0 0 1"/>
    <limit lower="-2.8" upper="2.8" effort="80" velocity="2.5"/>
  </joint>
  <joint name="elbow" type="revolute">
    <parent link="upper_arm"/><child link="forearm"/><origin xyz="0 0 0.3"/><axis xyz="0 1 0"/>
    <limit lower="-2.0" upper="2.0" effort="40" velocity="3.0"/>
  </joint>
  <joint name="wrist" type="${o.wristLimit ? 'revolute' : 'continuous'}">
    <parent link="forearm"/><child link="finger"/><origin xyz="0 0 0.24"/><axis xyz="0 0 1"/>
    ${o.wristLimit ? '<limit lower="-3" upper="3" effort="10" velocity="4"/>' : '<limit effort="10" velocity="4"/>'}
  </joint>
  ${o.malformed ? '<link name="broken"><visual></link>' : ''}
  ${
    o.transmissions === false
      ? ''
      : [
          transmission('shoulder_trans', o.badTransmissionJoint ?? 'shoulder', 'PositionJointInterface'),
          transmission('elbow_trans', 'elbow', 'PositionJointInterface'),
          transmission('wrist_trans', 'wrist', 'EffortJointInterface'),
        ].join('\n  ')
  }
</robot>
`;
  const file = path.join(pkg, 'urdf', 'demo_arm.urdf');
  writeFileSync(file, urdf);
  return file;
}

interface MjcfOptions {
  actuatorJoint?: string;
  meshFile?: string;
  noActuators?: boolean;
}

/** An MJCF robot split over files: main + included robot body + included actuators, meshes under meshdir. */
function writeMjcfRobot(root: string, o: MjcfOptions = {}): string {
  const dir = path.join(root, 'gripper_bot');
  mkdirSync(path.join(dir, 'parts'), { recursive: true });
  mkdirSync(path.join(dir, 'assets', 'meshes'), { recursive: true });
  writeFileSync(path.join(dir, 'assets', 'meshes', 'palm.stl'), binaryStl(boxTriangles(0.05, 0.05, 0.02)));
  writeFileSync(path.join(dir, 'assets', 'meshes', 'link.obj'), obj(boxTriangles(0.03, 0.03, 0.1)));
  writeFileSync(
    path.join(dir, 'gripper_bot.xml'),
    `<mujoco model="gripper_bot">
  <compiler angle="radian" meshdir="assets/meshes"/>
  <option timestep="0.002"/>
  <asset>
    <mesh name="palm" file="palm.stl"/>
    <mesh name="link" file="${o.meshFile ?? 'link.obj'}"/>
  </asset>
  <include file="parts/body.xml"/>
  ${o.noActuators ? '' : '<include file="parts/actuators.xml"/>'}
</mujoco>
`,
  );
  writeFileSync(
    path.join(dir, 'parts', 'body.xml'),
    `<mujoco>
  <worldbody>
    <body name="base">
      <geom type="mesh" mesh="palm"/>
      <body name="link1" pos="0 0 0.05">
        <joint name="lift" type="slide" axis="0 0 1" range="0 0.2"/>
        <geom type="mesh" mesh="link"/>
        <body name="link2" pos="0 0 0.2">
          <joint name="turn" type="hinge" axis="0 0 1"/>
          <geom type="capsule" size="0.02 0.05"/>
          <site name="tip"/>
        </body>
      </body>
    </body>
  </worldbody>
  <sensor>
    <jointpos name="lift_pos" joint="lift"/>
    <touch name="tip_touch" site="tip"/>
    <clock name="t"/>
  </sensor>
</mujoco>
`,
  );
  writeFileSync(
    path.join(dir, 'parts', 'actuators.xml'),
    `<mujoco>
  <actuator>
    <position name="lift_servo" joint="${o.actuatorJoint ?? 'lift'}" kp="500" ctrlrange="0 0.2" forcerange="-50 50"/>
    <motor name="turn_motor" joint="turn" gear="2" ctrlrange="-3 3"/>
    <velocity name="turn_speed" joint="turn" kv="5" ctrlrange="-1.5 1.5"/>
  </actuator>
</mujoco>
`,
  );
  return dir;
}

async function rejects(promise: Promise<unknown>, message: string | RegExp) {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(isTgError(err), `expected TgError, got ${String(err)}`);
    assert.equal(err.code, 'MODEL_INVALID');
    if (typeof message === 'string') assert.equal(err.message, message);
    else assert.match(err.message, message);
    return true;
  });
}

describe('robot import', () => {
  const tmp = mkdtempSync(path.join(tmpdir(), 'tg-import-'));
  after(() => rmSync(tmp, { recursive: true, force: true }));
  let n = 0;
  const fresh = () => {
    const d = path.join(tmp, `case-${++n}`);
    mkdirSync(d);
    return d;
  };

  test('URDF package with package:// and relative OBJ/STL meshes and ROS transmissions', async () => {
    const file = writeUrdfPackage(fresh());
    const robot = await importRobot(file);
    assert.equal(robot.format, 'urdf');
    assert.equal(robot.name, 'demo_arm');
    assert.match(robot.id, /^[0-9a-f]{64}$/);
    const map = robot.canonicalMap;
    assert.deepEqual(
      map.joints.map((j) => [j.name, j.kind, j.qposAdr, j.dofAdr]),
      [
        ['shoulder', 'hinge', 0, 0],
        ['elbow', 'hinge', 1, 1],
        ['wrist', 'hinge', 2, 2],
      ],
    );
    assert.deepEqual(map.joints[0]!.range, [-2.8, 2.8]);
    assert.equal(map.joints[2]!.range, null);
    assert.equal(map.joints[0]!.maxVelocity, 2.5);
    assert.equal(map.joints[0]!.maxTorque, 80);
    assert.equal(map.joints[2]!.maxTorque, 10);
    assert.deepEqual(
      map.actuators.map((a) => [a.name, a.kind, a.joint]),
      [
        ['shoulder', 'position', 'shoulder'],
        ['elbow', 'position', 'elbow'],
        ['wrist', 'torque', 'wrist'],
      ],
    );
    assert.deepEqual(map.actuators[0]!.ctrlRange, [-2.8, 2.8]);
    assert.deepEqual(map.actuators[2]!.ctrlRange, [-10, 10]);
    assert.deepEqual(robot.warnings, [
      "demo_arm.urdf: joint shoulder: armature 0.021 kg m^2 added (servo kp 1600 on 0.020 kg m^2 of link inertia would diverge at the 2 ms step; the URDF cannot carry a gearbox's reflected inertia)",
      'demo_arm.urdf: self-collision off between 1 link pair(s) that touch at rest, next to the fixed base or in nearly every pose: base_link/upper_arm',
      'demo_arm.urdf: joint wrist: no position limits (hinge is unlimited)',
    ]);
    // Every mesh is staged, each once, with the URDF.
    // Collision meshes share stems with visual ones: staged under another stem so MuJoCo keeps both.
    assert.deepEqual([...robot.files.keys()].sort(), [
      'meshes/collision/base_stl.stl',
      'meshes/collision/forearm.stl',
      'meshes/collision/upper_arm_stl.stl',
      'meshes/visual/base.obj',
      'meshes/visual/upper_arm.obj',
      'urdf/demo_arm.urdf',
    ]);
    const staged = new TextDecoder().decode(robot.files.get('urdf/demo_arm.urdf'));
    assert.ok(!staged.includes('package://'), 'package:// paths are rewritten');
    // Synthesized servos come back from MuJoCo as <general> with kp = effort / 0.05 rad.
    assert.match(
      robot.compiledXml,
      /<general name="shoulder" joint="shoulder" ctrlrange="-2.8 2.8" forcerange="-80 80" biastype="affine" gainprm="1600"/,
    );
    for (const mesh of ['base_stl', 'upper_arm_stl', 'forearm', 'base', 'upper_arm']) {
      assert.match(robot.compiledXml, new RegExp(`<mesh name="${mesh}"`), mesh);
    }
  });

  test('the same package imported from its folder gets the same id; a changed mesh byte changes it', async () => {
    const root = fresh();
    const file = writeUrdfPackage(root);
    const a = await importRobot(file);
    const b = await importRobot(path.join(root, 'demo_arm'));
    assert.equal(b.id, a.id);
    const stl = path.join(root, 'demo_arm', 'meshes', 'collision', 'forearm.stl');
    const bytes = readFileSync(stl);
    bytes.writeUInt8(bytes.readUInt8(bytes.length - 3) ^ 1, bytes.length - 3);
    writeFileSync(stl, bytes);
    const c = await importRobot(file);
    assert.notEqual(c.id, a.id);
  });

  test('URDF without transmissions: an error unless actuators of a kind are asked for', async () => {
    const file = writeUrdfPackage(fresh(), { transmissions: false });
    await rejects(
      importRobot(file),
      'demo_arm.urdf: robot demo_arm: no actuators (the URDF has no <transmission> or <ros2_control> command interface; import with actuators of a kind: position, velocity or torque)',
    );
    const torque = await importRobot(file, { urdfActuators: 'torque' });
    assert.deepEqual(
      torque.canonicalMap.actuators.map((a) => [a.name, a.kind, a.ctrlRange]),
      [
        ['shoulder', 'torque', [-80, 80]],
        ['elbow', 'torque', [-40, 40]],
        ['wrist', 'torque', [-10, 10]],
      ],
    );
    const velocity = await importRobot(file, { urdfActuators: 'velocity' });
    assert.deepEqual(
      velocity.canonicalMap.actuators.map((a) => a.kind),
      ['velocity', 'velocity', 'velocity'],
    );
    assert.notEqual(torque.id, velocity.id, 'the import options are part of the id');
  });

  test('MJCF with includes and a meshdir: canonical map of joints, actuator kinds and sensors', async () => {
    const dir = writeMjcfRobot(fresh());
    const robot = await importRobot(dir);
    assert.equal(robot.format, 'mjcf');
    assert.equal(robot.name, 'gripper_bot');
    assert.deepEqual([...robot.files.keys()].sort(), [
      'assets/meshes/link.obj',
      'assets/meshes/palm.stl',
      'gripper_bot.xml',
      'parts/actuators.xml',
      'parts/body.xml',
    ]);
    const map = robot.canonicalMap;
    assert.deepEqual(
      map.joints.map((j) => [j.name, j.kind, j.range, j.maxTorque, j.maxVelocity]),
      [
        ['lift', 'slide', [0, 0.2], 50, null],
        // motor: ctrl 3 x gain 1 x gear 2 = 6 N m; velocity servo ctrlrange 1.5 rad/s
        ['turn', 'hinge', null, 6, 1.5],
      ],
    );
    assert.deepEqual(
      map.actuators.map((a) => [a.name, a.kind, a.joint, a.ctrlRange, a.forceRange, a.gear]),
      [
        ['lift_servo', 'position', 'lift', [0, 0.2], [-50, 50], 1],
        ['turn_motor', 'torque', 'turn', [-3, 3], null, 2],
        ['turn_speed', 'velocity', 'turn', [-1.5, 1.5], null, 1],
      ],
    );
    assert.deepEqual(
      map.sensors.map((s) => [s.name, s.type, s.dim, s.attachedTo]),
      [
        ['lift_pos', 'jointpos', 1, { type: 'joint', name: 'lift' }],
        ['tip_touch', 'touch', 1, { type: 'site', name: 'tip' }],
        ['t', 'clock', 1, null],
      ],
    );
    assert.deepEqual(robot.warnings, [
      'gripper_bot.xml: joint turn: no position limits (hinge is unlimited)',
    ]);
  });

  test('canonical map of the project arm7: 9 joints (7 arm + 2 fingers), 8 position actuators', async () => {
    const mj = await loadMujoco();
    const model = mj.MjModel.from_xml_string(readMjcf(loadEmbodiment('arm7')));
    try {
      const map = inferCanonicalMap(mj, model);
      assert.deepEqual(
        map.joints.slice(0, 7).map((j) => j.name),
        ['j1', 'j2', 'j3', 'j4', 'j5', 'j6', 'j7'],
      );
      assert.equal(map.nu, 8);
      assert.ok(map.actuators.every((a) => a.kind === 'position'));
      assert.deepEqual(map.joints[0]!.range, [-2.9, 2.9]);
    } finally {
      model.delete();
    }
  });

  describe('bad input: precise messages, nothing registered', () => {
    const home = path.join(tmp, 'registry');
    const registry = new EmbodimentRegistry(home);
    const importAndRegister = async (p: string, o = {}) => registry.register(await importRobot(p, o));
    after(() => {
      assert.deepEqual(registry.list(), []);
      assert.ok(!existsSync(home) || readdirSync(home).length === 0, 'no temp folders left');
    });

    test('malformed URDF names the file and line', async () => {
      const file = writeUrdfPackage(fresh(), { malformed: true });
      await rejects(
        importAndRegister(file),
        /^demo_arm\.urdf: malformed XML: line \d+: closing tag <\/link> does not match <visual> opened on line \d+$/,
      );
    });

    test('missing URDF mesh names the link, role and filename', async () => {
      const file = writeUrdfPackage(fresh(), {
        upperArmMesh: 'package://demo_arm/meshes/collision/nope.stl',
      });
      await rejects(
        importAndRegister(file),
        /^demo_arm\.urdf: link upper_arm: collision mesh file not found: package:\/\/demo_arm\/meshes\/collision\/nope\.stl \(line \d+\)$/,
      );
    });

    test('unsupported collision mesh format', async () => {
      const root = fresh();
      const file = writeUrdfPackage(root, { upperArmMesh: '../meshes/upper_arm.dae' });
      writeFileSync(path.join(root, 'demo_arm', 'meshes', 'upper_arm.dae'), '<COLLADA/>');
      await rejects(
        importAndRegister(file),
        /^demo_arm\.urdf: link upper_arm: collision mesh \.\.\/meshes\/upper_arm\.dae: unsupported format \.dae/,
      );
    });

    test('transmission on an unknown joint', async () => {
      const file = writeUrdfPackage(fresh(), { badTransmissionJoint: 'shoulderr' });
      await rejects(
        importAndRegister(file),
        /^demo_arm\.urdf: transmission shoulder_trans: actuator on unknown joint 'shoulderr' \(line \d+\)$/,
      );
    });

    test('MJCF actuator on an unknown joint names the included file', async () => {
      const dir = writeMjcfRobot(fresh(), { actuatorJoint: 'lfit' });
      await rejects(
        importAndRegister(dir),
        "parts/actuators.xml: actuator lift_servo: unknown joint 'lfit' (line 3)",
      );
    });

    test('MJCF missing mesh names the mesh element and meshdir-relative file', async () => {
      const dir = writeMjcfRobot(fresh(), { meshFile: 'missing.obj' });
      await rejects(
        importAndRegister(dir),
        'gripper_bot.xml: mesh link: mesh file not found: missing.obj (line 6)',
      );
    });

    test('MJCF robot without actuators', async () => {
      const dir = writeMjcfRobot(fresh(), { noActuators: true });
      await rejects(importAndRegister(dir), 'gripper_bot.xml: robot gripper_bot: no actuators');
    });

    test("MuJoCo's own compile errors come through with the staged file name", async () => {
      const dir = path.join(fresh(), 'r');
      mkdirSync(dir);
      writeFileSync(
        path.join(dir, 'r.xml'),
        '<mujoco><worldbody><body><joint name="a" type="hinge"/><geom type="mesh" mesh="nope"/></body></worldbody>' +
          '<actuator><motor joint="a"/></actuator></mujoco>',
      );
      await rejects(importAndRegister(path.join(dir, 'r.xml')), /^r\.xml: MuJoCo: .*nope/);
    });

    test('a missing include', async () => {
      const dir = path.join(fresh(), 'r');
      mkdirSync(dir);
      writeFileSync(path.join(dir, 'r.xml'), '<mujoco>\n  <include file="nope.xml"/>\n</mujoco>\n');
      await rejects(importAndRegister(dir), 'r.xml: include nope.xml: file not found (line 2)');
    });
  });

  describe('registry', () => {
    test('register, list, get by prefix; the registered copy imports to the same id', async () => {
      const home = path.join(tmp, 'reg-ok');
      const registry = new EmbodimentRegistry(home);
      const urdf = await importRobot(writeUrdfPackage(fresh()));
      const mjcf = await importRobot(writeMjcfRobot(fresh()));
      const r1 = registry.register(urdf);
      registry.register(mjcf);
      assert.equal(registry.register(urdf).registeredAt, r1.registeredAt, 'registering again is a no-op');
      assert.deepEqual(
        registry.list().map((r) => r.name),
        ['demo_arm', 'gripper_bot'],
      );
      const got = registry.get(urdf.id.slice(0, 8));
      assert.equal(got.id, urdf.id);
      assert.deepEqual(got.canonicalMap, urdf.canonicalMap);
      assert.ok(existsSync(path.join(got.dir, 'compiled.xml')));
      assert.deepEqual(readdirSync(home).sort(), [mjcf.id, urdf.id].sort());
      const again = await importRobot(got.mainPath, got.options);
      assert.equal(again.id, urdf.id, 'the stored files are already normalized');
      const againMjcf = await importRobot(path.join(registry.get(mjcf.id).dir, 'files'));
      assert.equal(againMjcf.id, mjcf.id);
      assert.throws(
        () => registry.get('ffff'),
        (e: unknown) => isTgError(e) && e.code === 'NOT_FOUND',
      );
      assert.throws(
        () => registry.get(''),
        (e: unknown) => isTgError(e) && e.code === 'NOT_FOUND',
      );
    });
  });
});
