/**
 * Factory scene: the arm at a table with a peg board after NIST Assembly Task Board 1 (round pegs of
 * 4/8/12/16 mm in 4.1/8.1/12.2/16.5 mm holes, i.e. 0.1-0.5 mm diametral clearance), and the 8 mm peg held
 * in the gripper.
 *
 * Holes are real holes: each is a ring of `HOLE_SEGMENTS` boxes whose inner faces are tangent to the hole
 * circle, so the bore is a regular polygon with the hole's radius as its inradius (the vertices sit only
 * R * (1 / cos(pi / N) - 1) = 0.5% further out: 0.02 mm for the 8.1 mm hole, below the 0.05 mm radial
 * clearance). Each box is wide enough that its inner corners are buried in its neighbours, so there are no
 * gaps; the rings also form the board's top surface, on which a misaligned peg lands.
 *
 * Contact settings that make a 0.1 mm clearance meaningful (MuJoCo docs, "Solver parameters"):
 * - timestep 0.5 ms (the arm's file says 2 ms; the scene overrides it) so that a stiff time constant is
 *   still >= 2 timesteps, the stability rule the docs give for solref;
 * - peg and board solref = (0.002 s, 1): contacts 10x stiffer than the default 0.02 s, and
 *   solimp = (0.99, 0.999, 0.0001 m): full impedance reached within 0.1 mm of penetration, so under the
 *   ~10-20 N of an insertion the peg sinks into the wall by micrometres (test/sim/peg-insert.test.ts
 *   measures it), not by a sizeable fraction of the 50 um radial clearance;
 * - margin = gap = 0: contacts activate only at real touch (a margin would shrink the hole by itself).
 * Pegs and board use their own collision bit (4) so that the peg touches the board but not the fingers
 * holding it, nor the table.
 *
 * The peg's tip has a 1 mm x 45 degree chamfer (a convex frustum mesh), as machined pegs do: it is what
 * lets a peg that lands within ~1 mm of the axis slide into a bore with 0.05 mm of radial play.
 *
 * The board is a mocap body: fixed in the world for physics, but a task can place it per episode through
 * `mocap_pos` without touching the model.
 *
 * The grasp: the peg starts held, welded to the hand by the `grasp` equality constraint (active from
 * reset): a scripted insertion skill is about the insertion, not the pick. The weld is softer than the
 * contacts (solref 0.004 s), which behaves as a compliant grip: the peg can yield a little to the bore.
 */
import { type Embodiment, loadEmbodiment } from '../../embodiment/index.ts';
import { fmt, robotFile, robotFiles, type Scene } from './scene.ts';

export const HOLE_SEGMENTS = 32;
/**
 * Sides of the chamfer frustum. Its top polygon is inscribed in the shaft's circle, so the cylinder's bottom
 * face sticks out past the polygon's flats by R (1 - cos(pi / N)): a ledge that sits on the bore's rim with
 * no side force to guide it (a real chamfer meets the shaft smoothly). At 64 sides the ledge is 5 um, a
 * tenth of the 50 um radial clearance (at 16 it was 77 um, wider than the clearance).
 */
export const CHAMFER_SEGMENTS = 64;

export interface PegSpec {
  name: string;
  pegDiameterM: number;
  holeDiameterM: number;
}

/** NIST Assembly Task Board 1 round pegs and holes (diameters). */
export const NIST_ROUND_PEGS: readonly PegSpec[] = [
  { name: 'round4', pegDiameterM: 0.004, holeDiameterM: 0.0041 },
  { name: 'round8', pegDiameterM: 0.008, holeDiameterM: 0.0081 },
  { name: 'round12', pegDiameterM: 0.012, holeDiameterM: 0.0122 },
  { name: 'round16', pegDiameterM: 0.016, holeDiameterM: 0.0165 },
];

export interface PegBoardLayout {
  tableTopZ: number;
  /** Board centre (m, world) on the table; the holes run along y, `holeSpacingM` apart. */
  board: { x: number; y: number; heightM: number; holeDepthM: number; holeSpacingM: number };
  /** The peg held in the gripper (one of NIST_ROUND_PEGS) and its length and mass. */
  peg: { name: string; lengthM: number; massKg: number; chamferM: number };
  /** Peg centre in the hand frame along its z axis (m): how far below the palm it is held. */
  pegInHandZ: number;
  /** Where the holes are: a subset of NIST_ROUND_PEGS by name, in order along +y. */
  holes: readonly PegSpec[];
}

export const PEG_BOARD_LAYOUT: PegBoardLayout = {
  tableTopZ: 0,
  board: { x: 0.5, y: 0, heightM: 0.03, holeDepthM: 0.025, holeSpacingM: 0.06 },
  peg: { name: 'round8', lengthM: 0.05, massKg: 0.02, chamferM: 0.001 },
  pegInHandZ: 0.11,
  holes: NIST_ROUND_PEGS,
};

/** Hole centre offsets (m) along y within the board, in `layout.holes` order. */
export function holeOffsetsY(layout: PegBoardLayout): number[] {
  const k = layout.holes.length;
  return layout.holes.map((_, i) => (i - (k - 1) / 2) * layout.board.holeSpacingM);
}

export function pegSpec(layout: PegBoardLayout): PegSpec {
  const s = layout.holes.find((h) => h.name === layout.peg.name);
  if (!s) throw new Error(`peg '${layout.peg.name}' has no hole on the board`);
  return s;
}

function holeRingXml(spec: PegSpec, y: number, layout: PegBoardLayout): string {
  const { board } = layout;
  const r = spec.holeDiameterM / 2;
  // The ring reaches the corners of its square tile of the board.
  const outer = (board.holeSpacingM / 2) * Math.SQRT2 + 0.001;
  const halfRadial = (outer - r) / 2;
  const halfTangential = outer * Math.tan(Math.PI / HOLE_SEGMENTS);
  const floorZ = board.heightM - board.holeDepthM;
  const halfZ = board.holeDepthM / 2;
  const zc = floorZ + halfZ;
  const lines: string[] = [];
  for (let k = 0; k < HOLE_SEGMENTS; k++) {
    const a = (2 * Math.PI * k) / HOLE_SEGMENTS;
    const c = r + halfRadial;
    lines.push(
      `      <geom name="hole/${spec.name}/${k}" class="tg/board" type="box" size="${fmt(halfRadial)} ${fmt(halfTangential)} ${fmt(halfZ)}" pos="${fmt(c * Math.cos(a))} ${fmt(y + c * Math.sin(a))} ${fmt(zc)}" euler="0 0 ${fmt(a)}"/>`,
    );
  }
  lines.push(
    `      <site name="hole/${spec.name}" pos="0 ${fmt(y)} ${fmt(board.heightM)}" size="${fmt(r)}" rgba="0 0.6 0 0.3" group="3"/>`,
  );
  return lines.join('\n');
}

export function pegBoardXml(arm: Embodiment, layout: PegBoardLayout = PEG_BOARD_LAYOUT): string {
  const { board, peg } = layout;
  const spec = pegSpec(layout);
  const ys = holeOffsetsY(layout);
  const floorZ = board.heightM - board.holeDepthM;
  const halfX = board.holeSpacingM / 2;
  const halfY = (layout.holes.length * board.holeSpacingM) / 2;
  const pr = spec.pegDiameterM / 2;
  const ph = peg.lengthM / 2;
  const ch = layout.peg.chamferM;
  // The chamfer: a frustum (convex mesh) from radius pr at the shaft to pr - ch at the tip, ch long.
  const ring = (rad: number, z: number): string =>
    Array.from({ length: CHAMFER_SEGMENTS }, (_, k) => {
      const a = (2 * Math.PI * k) / CHAMFER_SEGMENTS;
      return `${fmt(rad * Math.cos(a))} ${fmt(rad * Math.sin(a))} ${fmt(z)}`;
    }).join(' ');
  const frustum = `${ring(pr, 0)} ${ring(pr - ch, ch)}`;
  return `<mujoco model="factory/peg-board">
  <include file="${robotFile(arm)}"/>
  <option timestep="0.0005"/>
  <asset>
    <mesh name="peg_chamfer" vertex="${frustum}"/>
  </asset>
  <default>
    <default class="tg/board">
      <geom contype="1" conaffinity="5" condim="3" friction="0.3 0.005 0.0001" solref="0.002 1"
            solimp="0.99 0.999 0.0001" margin="0" gap="0" rgba="0.75 0.75 0.78 1"/>
    </default>
    <default class="tg/peg">
      <geom contype="4" conaffinity="4" condim="3" friction="0.3 0.005 0.0001" solref="0.002 1"
            solimp="0.99 0.999 0.0001" margin="0" gap="0" rgba="0.85 0.7 0.2 1"/>
    </default>
  </default>
  <worldbody>
    <light name="key" pos="0.3 0 2" dir="0 0 -1" directional="true"/>
    <geom name="floor" type="plane" size="2 2 0.05" pos="0 0 ${fmt(layout.tableTopZ - 0.75)}" rgba="0.5 0.5 0.5 1"/>
    <geom name="table" type="box" size="0.6 0.7 0.02" pos="0.3 0 ${fmt(layout.tableTopZ - 0.02)}" rgba="0.65 0.5 0.35 1"/>
    <body name="board" mocap="true" pos="${fmt(board.x)} ${fmt(board.y)} ${fmt(layout.tableTopZ)}">
      <geom name="board/floor" class="tg/board" type="box" size="${fmt(halfX)} ${fmt(halfY)} ${fmt(floorZ / 2)}" pos="0 0 ${fmt(floorZ / 2)}"/>
${layout.holes.map((h, i) => holeRingXml(h, ys[i]!, layout)).join('\n')}
    </body>
    <body name="peg" pos="${fmt(board.x)} 0 0.3">
      <freejoint name="peg"/>
      <geom name="peg" class="tg/peg" type="cylinder" size="${fmt(pr)} ${fmt(ph - ch / 2)}" pos="0 0 ${fmt(-ch / 2)}" mass="${fmt(peg.massKg)}"/>
      <geom name="peg/chamfer" class="tg/peg" type="mesh" mesh="peg_chamfer" pos="0 0 ${fmt(ph - ch)}" mass="0.0002"/>
      <site name="peg_tip" pos="0 0 ${fmt(ph)}" size="0.002" group="3"/>
    </body>
  </worldbody>
  <equality>
    <weld name="grasp" body1="arm7/hand" body2="peg" relpose="0 0 ${fmt(layout.pegInHandZ)} 1 0 0 0"
          solref="0.004 1" solimp="0.99 0.999 0.0001"/>
  </equality>
  <sensor>
    <contact name="peg_contact" body1="peg" reduce="netforce" data="force"/>
  </sensor>
</mujoco>
`;
}

/**
 * The peg's axis points along the hand's z axis (down when the gripper points down), so its tip, the
 * `peg_tip` site, is the end at +z.
 */
export function pegBoardScene(arm: Embodiment = loadEmbodiment('arm7'), layout = PEG_BOARD_LAYOUT): Scene {
  return { name: 'factory/peg-board', arm, xml: pegBoardXml(arm, layout), files: robotFiles(arm) };
}
