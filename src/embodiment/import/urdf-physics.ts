/**
 * What a URDF leaves out that a simulator needs, added to MuJoCo's compiled model of it. Published URDFs
 * (CAD exports, ROS descriptions) describe links and limits for planners, not a stable simulation; imported
 * as they are, real arms (SO-ARM100/101 checked) blow up or freeze under their own servos:
 *
 * - Servo armature. A geared servo's rotor inertia reflected through the gearbox dominates a light link's
 *   inertia, and URDF has no field for it. A position servo of stiffness kp on an inertia I oscillates at
 *   sqrt(kp / I); above about half the step rate the integration diverges. Each position servo whose joint
 *   is that light gets the armature that brings it to `MAX_OMEGA_DT`, with a warning naming the value.
 * - Self-collision. Collision meshes are convex hulls in MuJoCo, so the hull of a concave part (a bracket,
 *   a horn) overlaps its neighbours; and MuJoCo's parent-child contact filter does not cover a child of a
 *   base that is welded to the world. Pairs of links that touch at the reference pose, are adjacent to a
 *   welded base, or touch in nearly every pose of a deterministic sweep through the joint ranges get a
 *   contact exclusion (MoveIt's "adjacent", "default" and "always" rules for its collision matrix).
 * - Integrator. `implicitfast` (MuJoCo's recommendation for robots) integrates servo damping implicitly.
 */
import type { MjModel, Mujoco } from '../../sim/mujoco.ts';
import { attr, childElements, setAttr, walk, type XmlElement } from './xml.ts';

/** Largest servo natural frequency times the timestep (rad) left as it is. */
export const MAX_OMEGA_DT = 0.4;
/** Poses in the self-collision sweep, and the fraction of them a pair must touch in to count as always. */
const SWEEP_POSES = 64;
const ALWAYS_FRACTION = 0.9;

/**
 * Completes `saved` (MuJoCo's saved XML of `model`, actuators included) in place; `servos` names the
 * position actuators the importer synthesized (the only ones whose joints get armature). Returns warnings.
 */
export function completeUrdfPhysics(
  mj: Mujoco,
  model: MjModel,
  saved: XmlElement,
  servos: ReadonlySet<string>,
  display: string,
): string[] {
  const warnings: string[] = [];
  setIntegrator(saved);
  for (const w of addArmature(mj, model, saved, servos)) warnings.push(`${display}: ${w}`);
  const pairs = selfCollisionPairs(mj, model);
  if (pairs.length > 0) {
    const name = (b: number) => mj.mj_id2name(model, mj.mjtObj.mjOBJ_BODY.value, b) ?? `body${b}`;
    let contact = childElements(saved, 'contact')[0];
    if (!contact) {
      contact = { name: 'contact', attrs: [], children: [], line: 0 };
      saved.children.push(contact);
    }
    for (const [a, b] of pairs) {
      contact.children.push({
        name: 'exclude',
        attrs: [
          ['body1', name(a)],
          ['body2', name(b)],
        ],
        children: [],
        line: 0,
      });
    }
    warnings.push(
      `${display}: self-collision off between ${pairs.length} link pair(s) that touch at rest, next to the fixed base or in nearly every pose: ${pairs.map(([a, b]) => `${name(a)}/${name(b)}`).join(', ')}`,
    );
  }
  return warnings;
}

function setIntegrator(saved: XmlElement): void {
  let option = childElements(saved, 'option')[0];
  if (!option) {
    option = { name: 'option', attrs: [], children: [], line: 0 };
    const at = saved.children.findIndex((c) => typeof c !== 'string' && c.name === 'compiler');
    saved.children.splice(at + 1, 0, option);
  }
  if (attr(option, 'integrator') === undefined) setAttr(option, 'integrator', 'implicitfast');
}

function addArmature(mj: Mujoco, m: MjModel, saved: XmlElement, servos: ReadonlySet<string>): string[] {
  const out: string[] = [];
  const dt = m.opt.timestep;
  const trn = m.actuator_trnid as Int32Array;
  const gain = m.actuator_gainprm as Float64Array;
  const dofAdr = m.jnt_dofadr as Int32Array;
  const invWeight = m.dof_invweight0 as Float64Array;
  const armature = m.dof_armature as Float64Array;
  const joints = new Map<string, XmlElement>();
  for (const [el] of walk(saved)) {
    const n = el.name === 'joint' ? attr(el, 'name') : undefined;
    if (n !== undefined) joints.set(n, el);
  }
  const JOINT = mj.mjtObj.mjOBJ_JOINT.value;
  for (let a = 0; a < m.nu; a++) {
    const actuator = mj.mj_id2name(m, mj.mjtObj.mjOBJ_ACTUATOR.value, a);
    if (actuator === null || !servos.has(actuator)) continue;
    const j = trn[2 * a]!;
    const dof = dofAdr[j]!;
    const kp = gain[10 * a]!;
    // 1 / diag(M^-1) at qpos0: the inertia the servo moves with the other joints free (the smallest it
    // sees), so the bound holds in every pose.
    const inertia = 1 / invWeight[dof]!;
    if (!(kp > 0) || Math.sqrt(kp / inertia) * dt <= MAX_OMEGA_DT) continue;
    const needed = kp * (dt / MAX_OMEGA_DT) ** 2;
    const value = roundUp(armature[dof]! + needed - inertia);
    const name = mj.mj_id2name(m, JOINT, j) ?? `joint${j}`;
    const el = joints.get(name);
    if (!el) continue;
    setAttr(el, 'armature', String(value));
    out.push(
      `joint ${name}: armature ${value} kg m^2 added (servo kp ${round(kp)} on ${inertia.toPrecision(2)} kg m^2 of link inertia would diverge at the ${dt * 1000} ms step; the URDF cannot carry a gearbox's reflected inertia)`,
    );
  }
  return out;
}

/** Body pairs (robot bodies only, a < b) whose contacts are excluded. */
function selfCollisionPairs(mj: Mujoco, m: MjModel): Array<[number, number]> {
  const parent = m.body_parentid as Int32Array;
  const weld = m.body_weldid as Int32Array;
  const geomBody = m.geom_bodyid as Int32Array;
  const contype = m.geom_contype as Int32Array;
  const conaffinity = m.geom_conaffinity as Int32Array;
  const collides = new Uint8Array(m.nbody);
  for (let g = 0; g < m.ngeom; g++)
    if (contype[g]! !== 0 || conaffinity[g]! !== 0) collides[geomBody[g]!] = 1;
  const key = (a: number, b: number) => (a < b ? a * m.nbody + b : b * m.nbody + a);
  const pairs = new Map<number, [number, number]>();
  const add = (a: number, b: number) => pairs.set(key(a, b), a < b ? [a, b] : [b, a]);
  // Adjacent to a base welded to the world: MuJoCo's parent filter treats that base as the world.
  for (let b = 1; b < m.nbody; b++) {
    const p = parent[b]!;
    if (p !== 0 && weld[p] === 0 && weld[b] !== 0 && collides[p] && collides[b]) add(p, b);
  }
  const d = new mj.MjData(m);
  try {
    const touching = (): Set<number> => {
      mj.mj_forward(m, d);
      const s = new Set<number>();
      for (let i = 0; i < d.ncon; i++) {
        const c = d.contact.get(i);
        if (!c) continue;
        const a = geomBody[c.geom1]!;
        const b = geomBody[c.geom2]!;
        c.delete();
        if (a !== 0 && b !== 0 && a !== b) s.add(key(a, b));
      }
      return s;
    };
    const unpack = (k: number): [number, number] => [Math.floor(k / m.nbody), k % m.nbody];
    for (const k of touching()) add(...unpack(k));
    // A deterministic sweep: a Kronecker sequence (frac of k * sqrt(prime)) through the joint ranges.
    const counts = new Map<number, number>();
    const hinges = jointSweep(mj, m);
    for (let k = 1; k <= SWEEP_POSES; k++) {
      mj.mj_resetData(m, d);
      const qpos = d.qpos as Float64Array;
      hinges.forEach((h, i) => {
        const u = (k * FRACTIONS[i % FRACTIONS.length]!) % 1;
        qpos[h.adr] = h.lo + u * (h.hi - h.lo);
      });
      for (const s of touching()) counts.set(s, (counts.get(s) ?? 0) + 1);
    }
    for (const [k, n] of counts) if (n >= ALWAYS_FRACTION * SWEEP_POSES) add(...unpack(k));
  } finally {
    d.delete();
  }
  return [...pairs.values()].sort((x, y) => x[0] - y[0] || x[1] - y[1]);
}

/** sqrt of the first primes, fractional parts: the irrational steps of the sweep, one per joint. */
const FRACTIONS = [2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53].map((p) => Math.sqrt(p) % 1);

function jointSweep(mj: Mujoco, m: MjModel): Array<{ adr: number; lo: number; hi: number }> {
  const type = m.jnt_type as Int32Array;
  const adr = m.jnt_qposadr as Int32Array;
  const range = m.jnt_range as Float64Array;
  const HINGE = mj.mjtJoint.mjJNT_HINGE.value;
  const SLIDE = mj.mjtJoint.mjJNT_SLIDE.value;
  const out: Array<{ adr: number; lo: number; hi: number }> = [];
  for (let j = 0; j < m.njnt; j++) {
    if (type[j] !== HINGE && type[j] !== SLIDE) continue;
    let lo = range[2 * j]!;
    let hi = range[2 * j + 1]!;
    if (!(hi > lo)) [lo, hi] = type[j] === HINGE ? [-Math.PI, Math.PI] : [0, 0];
    out.push({ adr: adr[j]!, lo, hi });
  }
  return out;
}

/** Two significant digits, rounded up (an armature never below what stability needs). */
function roundUp(x: number): number {
  const e = 10 ** (Math.floor(Math.log10(x)) - 1);
  return Number((Math.ceil(x / e) * e).toPrecision(2));
}

function round(x: number): string {
  return String(Number(x.toPrecision(3)));
}
