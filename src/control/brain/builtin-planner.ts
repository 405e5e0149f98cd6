/**
 * The built-in planner: deterministic, offline, instant. It parses the instruction (instruction.ts),
 * resolves each noun phrase against the world summary (by name, kind, colour, size and synonyms), and
 * expands each intent into skill calls while tracking what the gripper holds and where things are, so
 * "put the red cube in the bin" becomes pick + place, "insert the 8 mm peg" picks the 8 mm hole, and a
 * plan asked for again after a failure skips what the world shows is already done.
 *
 * Everything it cannot resolve is collected and thrown as one PlanningError naming each part; it never
 * plans half an instruction.
 */
import type { SkillCall } from '../contracts.ts';
import type { SkillName } from '../vocabulary.ts';
import { type Clause, type Intent, KNOWN_ACTIONS, type NounPhrase, parseInstruction } from './instruction.ts';
import { validateSteps } from './plan-validation.ts';
import { type BrainPlan, type Planner, PlanningError, type PlanRequest } from './planner.ts';
import {
  isOnTarget,
  nameWords,
  type ObjectSummary,
  objectKind,
  robotSkills,
  type TargetSummary,
  type WorldSummary,
} from './world-summary.ts';

/** How long "stand still" lasts when the instruction names no duration (s). */
export const DEFAULT_STAND_SEC = 10;

/** Words that name the same class of thing; the first word is the class name. */
const SYNONYMS: readonly string[][] = [
  ['cube', 'block', 'brick', 'box-shaped'],
  ['cup', 'mug', 'glass', 'coffee', 'tea', 'drink', 'beverage'],
  ['peg', 'pin', 'plug', 'rod', 'shaft'],
  ['container', 'bin', 'box', 'basket', 'crate', 'bucket', 'tray', 'bowl', 'tote', 'toybox'],
  ['hole', 'socket', 'slot', 'bore', 'receptacle'],
  ['handover', 'customer', 'guest', 'visitor', 'client', 'person', 'user', 'human', 'me', 'us', 'him', 'her'],
  ['waypoint', 'wp', 'checkpoint'],
  ['toy', 'plaything', 'plush', 'doll', 'duck', 'teddy'],
];
const CLASS_OF = new Map<string, string>();
for (const group of SYNONYMS) for (const w of group) CLASS_OF.set(w, group[0]!);

function classOf(word: string): string {
  return CLASS_OF.get(word) ?? word;
}

/** Skills whose effect the world summary cannot show; done before a failure, they are not repeated. */
const UNOBSERVABLE: ReadonlySet<string> = new Set(['walk_to', 'move_to', 'stand', 'home', 'release']);

interface Named {
  name: string;
  kind?: string;
  color?: string;
  sizeMm?: number;
}

function words(e: Named): string[] {
  const w = nameWords(e.name);
  w.push(objectKind(e));
  if (e.color) w.push(e.color.toLowerCase());
  return w;
}

function matchesHead(e: Named, head: string): boolean {
  const ws = words(e);
  if (ws.includes(head)) return true;
  const cls = classOf(head);
  return ws.some((w) => classOf(w) === cls);
}

function matchesSize(e: Named, mm: number): boolean {
  if (e.sizeMm !== undefined) return Math.abs(e.sizeMm - mm) < 0.5;
  return nameWords(e.name).some((w) => w === `${mm}mm` || w === `${mm}`);
}

function sizeOf(e: Named): number | undefined {
  if (e.sizeMm !== undefined) return e.sizeMm;
  for (const w of nameWords(e.name)) {
    const m = w.match(/^(\d+(?:\.\d+)?)mm$/);
    if (m) return Number(m[1]);
  }
  return undefined;
}

/** Entities that fit every descriptor of the phrase (head noun, colours, size). */
function filterByPhrase<T extends Named>(items: readonly T[], np: NounPhrase): T[] {
  return items.filter(
    (e) =>
      (np.head === undefined || matchesHead(e, np.head)) &&
      // "the red and blue toys": any of the colours named (a thing has one colour).
      (np.colors.length === 0 || np.colors.some((c) => words(e).includes(c))) &&
      (np.sizeMm === undefined || matchesSize(e, np.sizeMm)),
  );
}

function pickExtreme<T extends Named>(items: T[], extreme: 'min' | 'max'): T[] {
  const sized = items.filter((e) => sizeOf(e) !== undefined);
  if (sized.length === 0) return items;
  const best =
    extreme === 'min' ? Math.min(...sized.map((e) => sizeOf(e)!)) : Math.max(...sized.map((e) => sizeOf(e)!));
  return sized.filter((e) => sizeOf(e) === best);
}

/** True when a phrase says nothing about which thing: "it", "everything", "the thing". */
function isVague(np: NounPhrase | null): boolean {
  return np === null || (np.head === undefined && np.colors.length === 0 && np.sizeMm === undefined);
}

/** True when one of the thing's words is of the class ('peg', 'cup', 'hole'...). */
function isClass(e: Named, cls: string): boolean {
  return words(e).some((w) => classOf(w) === cls);
}

const list = (items: readonly Named[]) => (items.length > 0 ? items.map((e) => e.name).join(', ') : 'none');

/** A plan being built: the steps, the gripper and base as they will be after them, and what was said last. */
class Draft {
  readonly steps: SkillCall[] = [];
  readonly problems: string[] = [];
  held: string | null;
  base: { x: number; y: number; yawRad: number };
  /** Objects moved by earlier steps of this plan: name -> target. */
  readonly placed = new Map<string, string>();
  last: string[] = [];
  private readonly skills: readonly SkillName[];
  private readonly missing = new Set<SkillName>();

  constructor(readonly world: WorldSummary) {
    this.held = world.held;
    this.base = { ...(world.base ?? { x: 0, y: 0, yawRad: 0 }) };
    this.skills = robotSkills(world.robot);
  }

  can(skill: SkillName): boolean {
    if (this.skills.includes(skill)) return true;
    if (!this.missing.has(skill)) {
      this.missing.add(skill);
      const r = this.world.robot;
      this.problems.push(
        `robot '${r.name}' (${r.kind}) has no '${skill}' skill (it has: ${this.skills.join(', ')})`,
      );
    }
    return false;
  }

  push(skill: SkillName, args: Record<string, unknown> = {}): void {
    if (this.can(skill)) this.steps.push({ skill, args });
  }

  object(name: string): ObjectSummary {
    return this.world.objects.find((o) => o.name === name)!;
  }

  /** One object for a phrase, or null after recording why not. */
  resolveObject(np: NounPhrase | null, role: string, prefer?: (o: ObjectSummary) => boolean): string | null {
    const objects = this.world.objects;
    if (np === null || np.pronoun || isVague(np)) {
      if (this.held) return this.held;
      if (np?.pronoun && this.last.length === 1) return this.last[0]!;
      const preferred = prefer ? objects.filter(prefer) : objects;
      if (preferred.length === 1) return preferred[0]!.name;
      const what = np ? `"${np.text}"` : `the ${role}`;
      this.problems.push(
        preferred.length === 0
          ? `${what}: there is no ${role} here (objects: ${list(objects)})`
          : `${what} is ambiguous: it could be ${list(preferred)}`,
      );
      return null;
    }
    const found = this.resolveAll(np, role);
    if (found === null) return null;
    let c = found;
    if (c.length > 1 && np.extreme) c = pickExtreme(c, np.extreme);
    if (c.length > 1 && this.held && c.some((o) => o.name === this.held)) return this.held;
    if (c.length > 1 && prefer && c.filter(prefer).length === 1) return c.find(prefer)!.name;
    if (c.length > 1) {
      this.problems.push(`"${np.text}" is ambiguous: it could be ${list(c)}`);
      return null;
    }
    return c[0]!.name;
  }

  /** Every object a phrase names ("the toys", "everything", "the red cube"), or null after recording why. */
  resolveAll(np: NounPhrase | null, role: string): ObjectSummary[] | null {
    const objects = this.world.objects;
    if (np === null || isVague(np)) {
      if (np?.pronoun && this.last.length > 0) return this.last.map((n) => this.object(n));
      return [...objects];
    }
    let c = filterByPhrase(objects, np);
    // "the toys" in a room whose objects are named 'duck', 'ball', 'car': every object is a toy there.
    if (c.length === 0 && np.all && np.head !== undefined && classOf(np.head) === 'toy') {
      c = filterByPhrase(objects, { ...np, head: undefined });
    }
    if (c.length === 0) {
      this.problems.push(`no ${role} matches "${np.text}" (objects: ${list(objects)})`);
      return null;
    }
    return c;
  }

  /** One target for a phrase; with no phrase, the only target of `cls` ('container', 'hole', 'handover'). */
  resolveTarget(
    np: NounPhrase | null,
    cls: string,
    prefer?: (t: TargetSummary) => boolean,
  ): TargetSummary | null {
    const targets = this.world.targets;
    let c: TargetSummary[];
    let what: string;
    if (np === null || np.person || isVague(np)) {
      const want = np?.person ? 'handover' : cls;
      c = targets.filter((t) => isClass(t, want));
      what = np ? `"${np.text}"` : `a ${want === 'handover' ? 'hand-over spot' : want}`;
      if (c.length === 0) {
        this.problems.push(`${what}: this scene has no ${want} target (targets: ${list(targets)})`);
        return null;
      }
    } else {
      c = filterByPhrase(targets, np);
      what = `"${np.text}"`;
      if (c.length === 0) {
        const isObject = filterByPhrase(this.world.objects, np).length > 0;
        this.problems.push(
          `no target matches ${what}${isObject ? ' (it is an object, not a place)' : ''} (targets: ${list(targets)})`,
        );
        return null;
      }
      if (c.length > 1 && np.extreme) c = pickExtreme(c, np.extreme);
    }
    if (c.length > 1 && prefer && c.filter(prefer).length === 1) return c.find(prefer)!;
    if (c.length > 1) {
      this.problems.push(`${what} is ambiguous: it could be ${list(c)}`);
      return null;
    }
    return c[0]!;
  }

  /** True when the world (or this plan) already has the object on the target. */
  isDone(object: string, target: TargetSummary): boolean {
    if (this.placed.has(object)) return this.placed.get(object) === target.name;
    return this.held !== object && isOnTarget(this.object(object), target);
  }

  /** A mobile robot drives within reach of a point first (when the summary gives its reach). */
  approach(pos: readonly number[] | undefined): void {
    const reach = this.world.robot.reachM;
    if (!pos || reach === undefined || !robotSkills(this.world.robot).includes('walk_to')) return;
    const dx = pos[0]! - this.base.x;
    const dy = pos[1]! - this.base.y;
    const d = Math.hypot(dx, dy);
    if (d <= reach) return;
    const stop = (d - 0.8 * reach) / d;
    this.walkTo(this.base.x + dx * stop, this.base.y + dy * stop);
  }

  walkTo(x: number, y: number): void {
    const r = (v: number) => Math.round(v * 1000) / 1000;
    this.push('walk_to', { x: r(x), y: r(y) });
    this.base = { x: r(x), y: r(y), yawRad: Math.atan2(y - this.base.y, x - this.base.x) };
  }

  pick(object: string): boolean {
    if (this.held === object) return true;
    if (this.held !== null) {
      this.problems.push(
        `cannot pick '${object}': the gripper holds '${this.held}'; say where to put it first`,
      );
      return false;
    }
    this.approach(this.object(object).pos);
    this.push('pick', { object });
    this.held = object;
    this.last = [object];
    return true;
  }

  place(object: string, target: TargetSummary): void {
    if (this.isDone(object, target)) return;
    if (isClass(target, 'hole')) {
      this.insert(object, target);
      return;
    }
    if (!this.pick(object)) return;
    this.approach(target.pos);
    this.push('place', { target: target.name });
    this.held = null;
    this.placed.set(object, target.name);
  }

  insert(object: string, target: TargetSummary): void {
    if (!this.pick(object)) return;
    this.approach(target.pos);
    this.push('insert', { object, target: target.name });
    this.held = null;
    this.placed.set(object, target.name);
  }
}

const isPeg = (o: Named) => isClass(o, 'peg');
const isServable = (o: Named) => isClass(o, 'cup');

/** Prefers the target of the object's size: "put the peg in the hole" means the hole it fits. */
function sameSize(o: Named): (t: TargetSummary) => boolean {
  const size = sizeOf(o);
  return (t) => size !== undefined && sizeOf(t) !== undefined && Math.abs(sizeOf(t)! - size) < 0.5;
}

function nearestFirst(d: Draft, objects: ObjectSummary[]): ObjectSummary[] {
  const dist = (o: ObjectSummary) =>
    o.pos ? Math.hypot(o.pos[0] - d.base.x, o.pos[1] - d.base.y) : Infinity;
  return objects.sort((a, b) => dist(a) - dist(b) || a.name.localeCompare(b.name));
}

function expand(d: Draft, intent: Intent): void {
  switch (intent.kind) {
    case 'pick': {
      const o = d.resolveObject(intent.what, 'object');
      if (o) d.pick(o);
      return;
    }
    case 'place': {
      if (intent.what?.all && !intent.what.pronoun) {
        expand(d, { kind: 'tidy', what: intent.what, where: intent.where });
        return;
      }
      const o = d.resolveObject(intent.what, 'object');
      const t = o && d.resolveTarget(intent.where, 'container', sameSize(d.object(o)));
      if (o && t) d.place(o, t);
      return;
    }
    case 'insert': {
      const o = d.resolveObject(intent.what, 'peg', isPeg);
      const t = o && d.resolveTarget(intent.where, 'hole', sameSize(d.object(o)));
      if (o && t) d.insert(o, t);
      return;
    }
    case 'serve': {
      const o = d.resolveObject(intent.what, 'cup', isServable);
      const t = d.resolveTarget(intent.to, 'handover');
      if (o && t) d.place(o, t);
      return;
    }
    case 'tidy': {
      const found = d.resolveAll(intent.what, 'object');
      const t = d.resolveTarget(intent.where, 'container');
      if (!found || !t) return;
      const held = found.filter((o) => o.name === d.held);
      const rest = nearestFirst(
        d,
        found.filter((o) => o.name !== d.held),
      );
      for (const o of [...held, ...rest]) d.place(o.name, t);
      d.last = found.map((o) => o.name);
      return;
    }
    case 'release':
      d.push('release');
      d.held = null;
      return;
    case 'home':
      d.push('home');
      return;
    case 'stand':
      d.push('stand', { seconds: intent.seconds ?? DEFAULT_STAND_SEC });
      return;
    case 'walk':
      for (const [x, y] of intent.points) d.walkTo(x!, y!);
      return;
    case 'walk_relative': {
      const turn = { forward: 0, left: Math.PI / 2, back: Math.PI, right: -Math.PI / 2 }[intent.direction];
      const a = d.base.yawRad + turn;
      const yaw = d.base.yawRad;
      d.walkTo(d.base.x + intent.distanceM * Math.cos(a), d.base.y + intent.distanceM * Math.sin(a));
      d.base.yawRad = yaw; // a sidestep or backstep keeps the heading
      return;
    }
    case 'walk_target': {
      const np = intent.where;
      const t = filterByPhrase(d.world.targets, np);
      const o = filterByPhrase(d.world.objects, np);
      const hits = [...t, ...o].filter((e) => e.pos !== undefined);
      if (np.head === undefined || hits.length !== 1) {
        d.problems.push(
          hits.length > 1
            ? `"${np.text}" is ambiguous: it could be ${list(hits)}`
            : `no place matches "${np.text}" (targets: ${list(d.world.targets)}, objects: ${list(d.world.objects)})`,
        );
        return;
      }
      d.walkTo(hits[0]!.pos![0], hits[0]!.pos![1]);
      return;
    }
    case 'route': {
      const wps = d.world.targets.filter((t) => isClass(t, 'waypoint') && t.pos);
      if (wps.length === 0) {
        d.problems.push(`"route": this scene has no waypoints (targets: ${list(d.world.targets)})`);
        return;
      }
      for (const w of wps) d.walkTo(w.pos![0], w.pos![1]);
      return;
    }
    case 'move_to':
      for (const p of intent.points) d.push('move_to', { position: [p[0], p[1], p[2]] });
      return;
  }
}

/** Drops the leading steps that repeat state-invisible steps completed before a failure (route waypoints). */
function skipCompleted(steps: SkillCall[], completed: readonly SkillCall[]): SkillCall[] {
  let k = 0;
  while (
    k < steps.length &&
    k < completed.length &&
    UNOBSERVABLE.has(steps[k]!.skill) &&
    steps[k]!.skill === completed[k]!.skill &&
    JSON.stringify(steps[k]!.args) === JSON.stringify(completed[k]!.args)
  ) {
    k++;
  }
  return steps.slice(k);
}

/** Plans synchronously; throws PlanningError naming every part it could not plan. */
export function planInstruction(request: PlanRequest): SkillCall[] {
  const { instruction, world } = request;
  const clauses: Clause[] = parseInstruction(instruction);
  if (clauses.length === 0) throw new PlanningError(instruction, ['the instruction is empty']);
  const d = new Draft(world);
  const unknown = clauses.filter((c) => c.intent === null);
  for (const c of unknown) d.problems.push(c.problem!);
  if (unknown.length > 0) d.problems.push(`I can: ${KNOWN_ACTIONS}`);
  else for (const c of clauses) expand(d, c.intent!);
  if (d.problems.length > 0) throw new PlanningError(instruction, d.problems);
  const steps = request.failure ? skipCompleted(d.steps, request.failure.completed) : d.steps;
  const check = validateSteps(steps, world);
  // A failed self-check is a bug here, not a bad instruction: say so rather than hand out the plan.
  if (!check.ok)
    throw new PlanningError(instruction, [`built-in planner produced an invalid plan: ${check.reason}`]);
  return check.steps;
}

export class BuiltinPlanner implements Planner {
  readonly name = 'builtin';

  async plan(request: PlanRequest): Promise<BrainPlan> {
    return { instruction: request.instruction, steps: planInstruction(request), planner: this.name };
  }
}
