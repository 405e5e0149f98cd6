/**
 * The scripted episode loop (the drill of `tg up` and the field agents) drives the actuators only through
 * the spine's port: a skill that commands a NaN, a target past a joint limit or a push into the table
 * gets spine events in the recorded episode, and the bad command never reaches `ctrl`; an e-stop and the
 * command watchdog stop the arm and end the episode.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  type EpisodeResult,
  episodeEvents,
  runEpisode,
  type ScriptedSkill,
} from '../../src/control/episode-loop.ts';
import { cubeIntoBin, PickPlaceSkill } from '../../src/control/skills/pick-place.ts';
import { Recorder } from '../../src/data/recorder.ts';
import { seededRng } from '../../src/sim/rng.ts';
import { pickPlaceScene } from '../../src/sim/scenes/pick-place.ts';
import { SceneWorld } from '../../src/sim/scenes/scene-world.ts';
import { PickPlaceTask } from '../../src/sim/tasks/pick-place.ts';

const FPS = 30;

describe('episode loop: every command through the spine', () => {
  let world: SceneWorld;
  const task = new PickPlaceTask();
  before(async () => {
    world = await SceneWorld.create(pickPlaceScene());
  });
  after(() => world.dispose());

  const lower = () => world.scene.arm!.jointLimits.lower;
  const upper = () => world.scene.arm!.jointLimits.upper;

  /**
   * The pick-and-place skill with `fault` applied to its command at each control tick (time in s), and a
   * check, every tick, that what the actuators hold is finite and inside the joint limits.
   */
  function faulty(
    fault: (tSec: number, out: Float64Array) => void,
    target = cubeIntoBin(task),
  ): { skill: (dt: number) => ScriptedSkill; ctrlViolations: () => number } {
    let violations = 0;
    return {
      ctrlViolations: () => violations,
      skill: (dt) => {
        const inner = new PickPlaceSkill(world, target, { controlDtSec: dt });
        let k = 0;
        return {
          get finished() {
            return inner.finished;
          },
          step(w, out) {
            const ctrl = w.ctrl;
            for (let i = 0; i < w.actionDim; i++) {
              const c = ctrl[i]!;
              if (!Number.isFinite(c) || c < lower()[i]! - 1e-9 || c > upper()[i]! + 1e-9) violations++;
            }
            inner.step(w, out);
            fault(k++ * dt, out);
          },
        };
      },
    };
  }

  /** Runs the episode and records it as the field's drill does; returns both. */
  function record(run: (onFrame: (t: number, s: Float32Array, a: Float32Array) => void) => EpisodeResult) {
    const recorder = new Recorder({ fps: FPS, features: { 'observation.state': 8, action: 8 } });
    const frame: Record<string, Float32Array> = {};
    const actions: Float32Array[] = [];
    const result = run((t, state, action) => {
      frame['observation.state'] = state;
      frame.action = action;
      actions.push(action.slice());
      recorder.record(t, frame);
    });
    const episode = recorder.finish({
      robot: 'arm7',
      embodimentHash: 'test',
      vendor: 'tg-sim',
      field: 'local',
      operator: 'scripted-drill',
      task: 'pick-place',
      instruction: 'pick up the cube and place it in the bin',
      source: 'scripted',
      phase: 'drill',
      success: result.success,
      seed: 0,
      events: episodeEvents(result, FPS),
    });
    return { result, episode, actions };
  }

  test('a clean drill: no events, no stop, the same success as before', () => {
    task.reset(world, seededRng(0));
    const r = runEpisode({ world, task, skill: faulty(() => {}).skill });
    assert.equal(r.success, true);
    assert.equal(r.finished, true);
    assert.equal(r.safeStop, null);
    assert.deepEqual(r.safetyEvents, []);
    assert.equal(r.spineInterventions, 0);
  });

  test('a NaN command is rejected and held; the skill recovers and the cube still goes in', () => {
    task.reset(world, seededRng(0));
    // Two control ticks (20 ms) of NaN on j3: under the watchdog's 100 ms stop.
    const f = faulty((t, out) => {
      if (t >= 1 - 1e-9 && t < 1.02 - 1e-9) out[2] = Number.NaN;
    });
    const { result: r, episode } = record((onFrame) => runEpisode({ world, task, skill: f.skill, onFrame }));
    assert.equal(f.ctrlViolations(), 0, 'no NaN reached ctrl');
    const reject = r.safetyEvents.find((e) => e.kind === 'reject_nonfinite');
    assert.ok(reject, JSON.stringify(r.safetyEvents));
    assert.equal(reject.target, 'j3');
    assert.ok(Math.abs(reject.tSec - 1) < 0.005, `rejected at ${reject.tSec} s`);
    assert.equal(r.safeStop, null);
    assert.equal(r.success, true);
    const recorded = episode.meta.events.find((e) => e.kind === 'reject_nonfinite');
    assert.deepEqual(recorded, { frame: FPS, kind: 'reject_nonfinite', detail: 'target=j3' });
    assert.equal(episode.meta.events.length, r.safetyEvents.length);
  });

  test('a command that stays NaN: the watchdog holds, then stops the arm (category 2), ending the episode', () => {
    task.reset(world, seededRng(0));
    const f = faulty((t, out) => {
      if (t >= 1 - 1e-9) out.fill(Number.NaN);
    });
    const {
      result: r,
      episode,
      actions,
    } = record((onFrame) => runEpisode({ world, task, skill: f.skill, onFrame }));
    assert.equal(f.ctrlViolations(), 0);
    const kinds = r.safetyEvents.map((e) => e.kind);
    assert.deepEqual(
      kinds,
      ['reject_nonfinite', 'watchdog_hold', 'watchdog_stop'],
      JSON.stringify(r.safetyEvents),
    );
    const stop = r.safetyEvents[2]!;
    assert.equal(stop.category, 2);
    assert.equal(stop.target, 'command');
    assert.ok(stop.tSec > 1.1 - 0.02 && stop.tSec < 1.1 + 0.02, `stopped at ${stop.tSec} s`);
    assert.deepEqual(r.safeStop && { reason: r.safeStop.reason, category: r.safeStop.category }, {
      reason: 'watchdog_stop: command',
      category: 2,
    });
    assert.equal(r.finished, false);
    assert.equal(r.success, false);
    assert.ok(r.simSec < 1.5, `the episode ended at ${r.simSec} s, not at the time limit`);
    assert.deepEqual(
      episode.meta.events.map((e) => e.kind),
      kinds,
    );
    // Every recorded action is finite.
    for (const a of actions) for (const v of a) assert.ok(Number.isFinite(v));
  });

  test('a target past a joint limit is clamped: an event, and ctrl never leaves the limits', () => {
    task.reset(world, seededRng(0));
    const j1Upper = upper()[0]!;
    const f = faulty((t, out) => {
      if (t >= 0.5 - 1e-9 && t < 0.8 - 1e-9) out[0] = j1Upper + 0.5;
    });
    const {
      result: r,
      episode,
      actions,
    } = record((onFrame) => runEpisode({ world, task, skill: f.skill, onFrame, maxSimSec: 1.5 }));
    assert.equal(f.ctrlViolations(), 0, 'ctrl stayed within the joint limits');
    const clamp = r.safetyEvents.find((e) => e.kind === 'clamp_position' && e.target === 'j1');
    assert.ok(clamp, JSON.stringify(r.safetyEvents));
    assert.ok(clamp.value! > j1Upper, `the event carries the commanded ${clamp.value}`);
    assert.equal(clamp.limit, j1Upper);
    assert.ok(clamp.tSec >= 0.5 - 1e-9 && clamp.tSec < 0.8);
    assert.ok(r.spineInterventions > 0);
    for (const a of actions) assert.ok(a[0]! <= Math.fround(j1Upper) + 1e-6);
    assert.ok(
      episode.meta.events.some((e) => e.kind === 'clamp_position' && e.detail?.includes('target=j1')),
    );
  });

  test('a push into the table trips the contact-force limit: a stop, and the push is not applied', () => {
    task.reset(world, seededRng(0));
    // The grasp point 5 cm below the cube's centre: 2.75 cm into the table top.
    const f = faulty(() => {}, { ...cubeIntoBin(task), graspHeightM: -0.05 });
    const { result: r, episode } = record((onFrame) =>
      runEpisode({ world, task, skill: f.skill, onFrame, maxSimSec: 4 }),
    );
    const contact = r.safetyEvents.find((e) => e.kind === 'contact_force');
    assert.ok(contact, JSON.stringify(r.safetyEvents));
    assert.equal(contact.target, 'environment');
    assert.equal(contact.limit, world.scene.arm!.safety.maxContactForceN);
    assert.ok(contact.value! > contact.limit!);
    assert.equal(contact.category, 2);
    assert.deepEqual(r.safeStop && [r.safeStop.reason, r.safeStop.mode], [
      'contact_force: environment',
      'stopped',
    ]);
    assert.equal(r.success, false);
    assert.ok(r.simSec < contact.tSec + 0.5, `ended ${r.simSec - contact.tSec} s after the stop`);
    assert.ok(
      episode.meta.events.some((e) => e.kind === 'contact_force' && e.detail?.includes('category=2')),
    );
    assert.equal(f.ctrlViolations(), 0);
  });

  test('after a contact stop the targets stay where the stop left them', () => {
    task.reset(world, seededRng(0));
    const f = faulty(() => {}, { ...cubeIntoBin(task), graspHeightM: -0.05 });
    const ctrl: number[][] = [];
    const r = runEpisode({
      world,
      task,
      skill: f.skill,
      frameHz: 500,
      onFrame: (t) => ctrl.push([t, ...world.ctrl.subarray(0, 8)]),
      maxSimSec: 4,
    });
    const stop = r.safetyEvents.find((e) => e.kind === 'contact_force')!;
    assert.ok(stop);
    // No acceleration limit on the drill's spine: the stop holds the last output from the next tick on.
    const held = ctrl.filter(([t]) => t! > stop.tSec + 0.003);
    assert.ok(held.length >= 10, `${held.length} ticks observed after the stop`);
    for (const row of held) assert.deepEqual(row.slice(1), held[0]!.slice(1));
  });

  test('an e-stop of category 0 removes power at once: an event, ctrl frozen, the episode ends', () => {
    task.reset(world, seededRng(0));
    const ctrl: number[][] = [];
    const f = faulty(() => {});
    const r = runEpisode({
      world,
      task,
      skill: f.skill,
      frameHz: 500,
      onFrame: (t) => ctrl.push([t, ...world.ctrl.subarray(0, 8)]),
      estop: (t) => (t >= 1 - 1e-9 ? 0 : null),
    });
    const estop = r.safetyEvents.find((e) => e.kind === 'estop');
    assert.ok(estop, JSON.stringify(r.safetyEvents));
    assert.equal(estop.category, 0);
    assert.ok(Math.abs(estop.tSec - 1) < 1e-9);
    assert.deepEqual(r.safeStop && [r.safeStop.category, r.safeStop.mode], [0, 'off']);
    const after = ctrl.filter(([t]) => t! >= 1 - 1e-9);
    assert.ok(after.length > 0);
    for (const row of after) assert.deepEqual(row.slice(1), after[0]!.slice(1));
    assert.ok(r.simSec < 1.2);
    assert.equal(r.finished, false);
  });
});
