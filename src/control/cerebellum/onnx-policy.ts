/**
 * Learned skills: an ONNX policy (observation vector -> action vector) run through onnxruntime-node.
 *
 * The session is created once, single-threaded (the control loop owns its core; ORT's default thread
 * pools would spin on every core). Inference is synchronous: a skill's `step` is a synchronous call
 * inside a fixed-rate loop, so the promise-based `InferenceSession.run` (which defers through
 * `setImmediate`) cannot serve it. onnxruntime-node exposes its synchronous native session as
 * `binding.InferenceSession` (dist/binding.d.ts: "a simple synchronized inference session object wrap");
 * `OnnxPolicy` uses it directly with pre-allocated input and output tensors, so each run writes into the
 * same `action` buffer. What the native call still allocates (its result record) is outside our control.
 */
import { readFile } from 'node:fs/promises';
import { Tensor } from 'onnxruntime-node';
import { type Binding, binding, initOrt } from 'onnxruntime-node/dist/binding.js';
import { TgError } from '../../errors/index.ts';
import type { WorldState } from '../contracts.ts';
import { ArmSkill } from './arm-skill.ts';

const FLOAT32 = 1; // ONNX TensorProto.DataType.FLOAT, as the binding reports element types

export interface OnnxPolicyOptions {
  /** Input/output names (default: the model's only input and output). */
  inputName?: string;
  outputName?: string;
  /** A name for messages (default 'policy'). */
  name?: string;
}

export class OnnxPolicy {
  readonly name: string;
  readonly obsDim: number;
  readonly actDim: number;
  /** Fill this, call `run`, read `action`. */
  readonly observation: Float32Array;
  readonly action: Float32Array;
  private session: Binding.InferenceSession | null;
  private readonly feeds: Record<string, Tensor>;
  private readonly fetches: Record<string, Tensor>;

  private constructor(
    name: string,
    session: Binding.InferenceSession,
    input: Binding.ValueMetadata,
    output: Binding.ValueMetadata,
  ) {
    this.name = name;
    this.session = session;
    const inShape = batchOneShape(input);
    const outShape = batchOneShape(output);
    this.obsDim = inShape[inShape.length - 1]!;
    this.actDim = outShape[outShape.length - 1]!;
    this.observation = new Float32Array(this.obsDim);
    this.action = new Float32Array(this.actDim);
    this.feeds = { [input.name]: new Tensor('float32', this.observation, inShape) };
    this.fetches = { [output.name]: new Tensor('float32', this.action, outShape) };
  }

  /** Loads a policy from ONNX bytes. Throws INPUT_INVALID naming the policy when the model is unusable. */
  static fromBytes(bytes: Uint8Array, opts: OnnxPolicyOptions = {}): OnnxPolicy {
    const name = opts.name ?? 'policy';
    initOrt();
    const session = new binding.InferenceSession();
    try {
      session.loadModel(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength, {
        intraOpNumThreads: 1,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
      });
    } catch (err) {
      throw new TgError('INPUT_INVALID', `policy '${name}' is not a loadable ONNX model: ${String(err)}`, {
        cause: err,
      });
    }
    try {
      const input = pick(session.inputMetadata, opts.inputName, 'input', name);
      const output = pick(session.outputMetadata, opts.outputName, 'output', name);
      return new OnnxPolicy(name, session, input, output);
    } catch (err) {
      session.dispose();
      throw err;
    }
  }

  static async load(path: string, opts: OnnxPolicyOptions = {}): Promise<OnnxPolicy> {
    let bytes: Uint8Array;
    try {
      bytes = await readFile(path);
    } catch (err) {
      throw new TgError('NOT_FOUND', `policy file '${path}' cannot be read: ${String(err)}`, { cause: err });
    }
    return OnnxPolicy.fromBytes(bytes, { name: path, ...opts });
  }

  /** observation -> action, synchronously. Throws if the session was disposed or ORT fails. */
  run(): void {
    if (this.session === null) throw new TgError('INPUT_INVALID', `policy '${this.name}' was disposed`);
    this.session.run(this.feeds, this.fetches, {});
  }

  dispose(): void {
    this.session?.dispose();
    this.session = null;
  }
}

function pick(
  list: Binding.ValueMetadata[],
  wanted: string | undefined,
  what: string,
  policy: string,
): Binding.ValueMetadata {
  const names = list.map((m) => m.name).join(', ');
  const m =
    wanted === undefined ? (list.length === 1 ? list[0] : undefined) : list.find((x) => x.name === wanted);
  if (m === undefined) {
    throw new TgError(
      'INPUT_INVALID',
      wanted === undefined
        ? `policy '${policy}' has ${list.length} ${what}s (${names}): name the ${what} to use`
        : `policy '${policy}' has no ${what} '${wanted}' (has ${names})`,
    );
  }
  if (!m.isTensor || m.type !== FLOAT32) {
    throw new TgError('INPUT_INVALID', `policy '${policy}': ${what} '${m.name}' must be a float32 tensor`);
  }
  return m;
}

/** [d] or [1, d] (a symbolic batch dimension is run with batch 1). */
function batchOneShape(m: Binding.ValueMetadata): number[] {
  const s = m.shape.map((d) => (d < 0 ? 1 : d));
  const ok = (s.length === 1 && s[0]! > 0) || (s.length === 2 && s[0] === 1 && s[1]! > 0);
  if (!ok) {
    throw new TgError(
      'INPUT_INVALID',
      `tensor '${m.name}' has shape [${m.shape.join(', ')}]: expected [d] or [1, d]`,
    );
  }
  return s;
}

/** One piece of the observation vector, in order. */
export type ObservationTerm =
  | 'q'
  | 'qd'
  | 'tau'
  | 'goal'
  | 'wrench'
  | 'command'
  | { object: string }
  | { tactile: string };

export interface PolicySkillSpec {
  /** The skill's name in the registry. */
  name: string;
  policy: OnnxPolicy;
  observation: readonly ObservationTerm[];
  /** Length of the goal vector (the 'goal' term; default 0). */
  goalDim?: number;
  action: {
    /** 'joint_delta': target = measured + scale * a; 'joint_position': target = offset + scale * a. */
    mode: 'joint_delta' | 'joint_position';
    /** Canonical command channels the action drives, in action order; the others hold. */
    channels: readonly number[];
    scale?: number;
    offset?: readonly number[];
  };
  /** Run the policy every k control ticks, holding its action in between (default 1). */
  everyTicks?: number;
}

export interface PolicyGoal {
  /** The goal vector (goalDim values). */
  target?: readonly number[];
  /** Succeed after this long (s, default 3)... */
  durationSec?: number;
  /** ...or as soon as every driven channel is within this of `target` (aligned with the channels). */
  toleranceRad?: number;
}

/** Term codes: compiled once so the per-tick observation build is a switch over numbers. */
enum Term {
  Q,
  Qd,
  Tau,
  Goal,
  Wrench,
  Command,
  Object,
  Tactile,
}

export class OnnxPolicySkill extends ArmSkill<PolicyGoal> {
  readonly name: string;
  /** Inference calls made, for telemetry. */
  inferences = 0;
  private readonly spec: PolicySkillSpec;
  private readonly terms: Term[];
  private readonly termKeys: (string | null)[];
  private readonly goal: Float64Array;
  private readonly channels: Int32Array;
  private readonly scale: number;
  private readonly offset: Float64Array;
  private readonly command: Float64Array;
  /** Joint targets of the last action (NaN: not driven). */
  private readonly targets: Float64Array;
  private hasTarget = false;
  private durationSec = 3;
  private tol = Number.NaN;
  private ticks = 0;
  private atGoalSec = 0;

  constructor(ctx: ConstructorParameters<typeof ArmSkill>[0], spec: PolicySkillSpec) {
    super(ctx);
    const p = ctx.profile;
    this.name = spec.name;
    this.spec = spec;
    this.terms = [];
    this.termKeys = [];
    let dim = 0;
    const goalDim = spec.goalDim ?? 0;
    for (const t of spec.observation) {
      if (typeof t === 'string') {
        const code = {
          q: Term.Q,
          qd: Term.Qd,
          tau: Term.Tau,
          goal: Term.Goal,
          wrench: Term.Wrench,
          command: Term.Command,
        }[t];
        this.terms.push(code);
        this.termKeys.push(null);
        dim += t === 'goal' ? goalDim : t === 'wrench' ? 6 : p.actionDim;
      } else if ('object' in t) {
        this.terms.push(Term.Object);
        this.termKeys.push(t.object);
        dim += 3;
      } else {
        this.terms.push(Term.Tactile);
        this.termKeys.push(t.tactile);
        dim += 4;
      }
    }
    if (dim !== spec.policy.obsDim) {
      throw new TgError(
        'CONFIG_INVALID',
        `skill '${spec.name}': the observation terms make ${dim} values, policy '${spec.policy.name}' takes ${spec.policy.obsDim}`,
      );
    }
    const ch = spec.action.channels;
    if (ch.length !== spec.policy.actDim) {
      throw new TgError(
        'CONFIG_INVALID',
        `skill '${spec.name}': ${ch.length} action channels, policy '${spec.policy.name}' outputs ${spec.policy.actDim}`,
      );
    }
    for (const c of ch) {
      if (!(Number.isInteger(c) && c >= 0 && c < p.actionDim)) {
        throw new TgError(
          'CONFIG_INVALID',
          `skill '${spec.name}': action channel ${c} is not in [0, ${p.actionDim})`,
        );
      }
    }
    this.channels = Int32Array.from(ch);
    this.scale = spec.action.scale ?? 1;
    this.offset = Float64Array.from(spec.action.offset ?? ch.map(() => 0));
    this.goal = new Float64Array(goalDim);
    this.command = new Float64Array(p.actionDim);
    this.targets = new Float64Array(p.armDof);
  }

  protected begin(goal: PolicyGoal, _state: WorldState): void {
    const goalDim = this.goal.length;
    this.hasTarget = goal.target !== undefined;
    if (goal.target !== undefined) {
      if (goal.target.length !== goalDim) {
        this.fail(`target has ${goal.target.length} values, the policy's goal has ${goalDim}`);
        return;
      }
      this.goal.set(goal.target);
    } else if (goalDim > 0) {
      this.fail(`the policy needs a target of ${goalDim} values`);
      return;
    }
    this.durationSec = goal.durationSec ?? 3;
    this.tol = goal.toleranceRad ?? Number.NaN;
    this.ticks = 0;
    this.atGoalSec = 0;
    this.enter('running');
  }

  protected tick(state: WorldState): void {
    const every = this.spec.everyTicks ?? 1;
    if (this.ticks++ % every === 0) {
      const bad = this.buildObservation(state);
      if (bad !== null) {
        this.fail(`non-finite observation (${bad}): holding`);
        return;
      }
      try {
        this.spec.policy.run();
      } catch (err) {
        this.fail(`inference failed: ${String(err)}`);
        return;
      }
      this.inferences++;
      const a = this.spec.policy.action;
      for (let k = 0; k < a.length; k++) {
        if (!Number.isFinite(a[k]!)) {
          this.fail(`policy '${this.spec.policy.name}' produced a non-finite action (index ${k}): holding`);
          return;
        }
      }
    }
    this.applyAction(state);
    if (this.succeeded(state)) this.succeed();
  }

  /** Writes the observation; returns the name of a non-finite term, or null. */
  private buildObservation(state: WorldState): string | null {
    const obs = this.spec.policy.observation;
    const m = this.ctx.motion;
    // Joint vectors in the observation have the canonical action length (arm joints then gripper).
    const dim = this.ctx.profile.actionDim;
    let k = 0;
    for (let t = 0; t < this.terms.length; t++) {
      const start = k;
      switch (this.terms[t]!) {
        case Term.Q:
          for (let i = 0; i < dim; i++) obs[k++] = state.q[i]!;
          break;
        case Term.Qd:
          for (let i = 0; i < dim; i++) obs[k++] = state.qd[i]!;
          break;
        case Term.Tau:
          for (let i = 0; i < dim; i++) obs[k++] = state.tau[i]!;
          break;
        case Term.Goal:
          for (let i = 0; i < this.goal.length; i++) obs[k++] = this.goal[i]!;
          break;
        case Term.Wrench: {
          const w = state.wrench;
          for (let i = 0; i < 6; i++) obs[k++] = w === undefined ? Number.NaN : w[i]!;
          break;
        }
        case Term.Command:
          m.write(this.command);
          for (let i = 0; i < this.command.length; i++) obs[k++] = this.command[i]!;
          break;
        case Term.Object: {
          const e = state.objects.get(this.termKeys[t]!);
          for (let i = 0; i < 3; i++) obs[k++] = e === undefined || !e.visible ? Number.NaN : e.pos[i]!;
          break;
        }
        case Term.Tactile: {
          const f = state.tactile.get(this.termKeys[t]!);
          obs[k++] = f === undefined ? Number.NaN : f.forceN;
          obs[k++] = f === undefined ? Number.NaN : f.centroid[0]!;
          obs[k++] = f === undefined ? Number.NaN : f.centroid[1]!;
          obs[k++] = f === undefined ? Number.NaN : f.slipRate;
          break;
        }
      }
      for (let i = start; i < k; i++)
        if (!Number.isFinite(obs[i]!)) return termName(this.spec.observation[t]!);
    }
    return null;
  }

  /**
   * Policy action -> targets of the driven channels, clamped to the limits; the commands follow them within
   * the skills' speeds and accelerations (ArmMotion.track, the grip regulator). Joints the policy does not
   * drive hold.
   */
  private applyAction(state: WorldState): void {
    const { motion: m, profile: p, grip } = this.ctx;
    const a = this.spec.policy.action;
    const delta = this.spec.action.mode === 'joint_delta';
    const targets = this.targets;
    targets.fill(Number.NaN);
    for (let k = 0; k < this.channels.length; k++) {
      const c = this.channels[k]!;
      let target = (delta ? state.q[c]! : this.offset[k]!) + this.scale * a[k]!;
      target = Math.min(p.upper[c]!, Math.max(p.lower[c]!, target));
      if (c < p.armDof) targets[c] = target;
      else grip.moveTo(target);
    }
    m.track(state, targets);
  }

  private succeeded(state: WorldState): boolean {
    if (this.hasTarget && !Number.isNaN(this.tol)) {
      let at = true;
      for (let k = 0; k < this.channels.length && k < this.goal.length; k++) {
        if (Math.abs(state.q[this.channels[k]!]! - this.goal[k]!) > this.tol) at = false;
      }
      this.atGoalSec = at ? this.atGoalSec + this.ctx.motion.dtSec : 0;
      if (this.atGoalSec >= 0.1) return true;
    }
    if (this.elapsedSec >= this.durationSec) {
      if (this.hasTarget && !Number.isNaN(this.tol)) {
        this.fail(`did not bring the channels within ${this.tol} of the target in ${this.durationSec} s`);
        return false;
      }
      return true;
    }
    return false;
  }
}

function termName(t: ObservationTerm): string {
  return typeof t === 'string' ? t : 'object' in t ? `object ${t.object}` : `tactile ${t.tactile}`;
}
