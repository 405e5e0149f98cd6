/**
 * `tg run` with the LLM brain against a local server speaking the chat-completions protocol (scripted
 * replies), the fallback to the built-in planner when the server is unreachable or too slow, and the
 * command's clear errors.
 */
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { EpisodeOutcome } from '../../src/control/stack/index.ts';
import { tgRun } from './run.child.ts';

interface Chat {
  model: string;
  messages: { role: string; content: string }[];
}

/** A chat-completions server answering every request with `content` after `delayMs`. */
class ScriptedLlm {
  readonly requests: Chat[] = [];
  content = '';
  delayMs = 0;
  private readonly server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => {
      body += c;
    });
    req.on('end', () => {
      this.requests.push(JSON.parse(body) as Chat);
      const reply = JSON.stringify({
        id: 'chatcmpl-test',
        object: 'chat.completion',
        choices: [{ index: 0, message: { role: 'assistant', content: this.content }, finish_reason: 'stop' }],
      });
      setTimeout(() => {
        if (!res.destroyed) res.writeHead(200, { 'content-type': 'application/json' }).end(reply);
      }, this.delayMs);
    });
  });

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

const TASK = ['--robot', 'arm7', '--task', 'put the red cube in the bin'];

describe('tg run --brain llm', () => {
  const llm = new ScriptedLlm();
  let url = '';
  before(async () => {
    url = await llm.start();
  });
  after(() => llm.stop());

  test("the LLM's plan is validated and executed", async () => {
    // A plan the built-in planner would not make (home first), so the run shows whose plan it executed.
    llm.content = JSON.stringify({
      steps: [
        { skill: 'home', args: {} },
        { skill: 'pick', args: { object: 'cube' } },
        { skill: 'place', args: { target: 'bin' } },
      ],
    });
    llm.delayMs = 0;
    const run = await tgRun([
      ...TASK,
      '--json',
      '--brain',
      'llm',
      '--llm-url',
      url,
      '--llm-model',
      'qwen-test',
      // Generous: a loaded CI machine must not turn a prompt reply into a timeout and a fallback.
      '--llm-timeout-ms',
      '30000',
    ]);
    assert.equal(run.code, 0, run.stderr);
    const o = JSON.parse(run.stdout) as EpisodeOutcome;
    assert.equal(o.plan?.planner, 'llm', o.plan?.fallbackReason);
    assert.deepEqual(
      o.plan.steps.map((s) => s.skill),
      ['home', 'pick', 'place'],
    );
    assert.equal(o.success, true, o.reason);
    const req = llm.requests.at(-1)!;
    assert.equal(req.model, 'qwen-test');
    // The world summary reached the model: the cube with its colour, the bin with its radius.
    const system = req.messages.find((m) => m.role === 'system')!.content;
    assert.match(system, /"name":"cube","kind":"cube","color":"red"/);
    assert.match(system, /"name":"bin".*"radiusM":0\.09/);
  });

  test('a reply slower than --llm-timeout-ms: the built-in planner answers, and the run says so', async () => {
    llm.content = JSON.stringify({ steps: [{ skill: 'home', args: {} }] });
    llm.delayMs = 3000;
    const run = await tgRun([
      ...TASK,
      '--brain',
      'llm',
      '--llm-url',
      url,
      '--llm-model',
      'm',
      '--llm-timeout-ms',
      '150',
    ]);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /^plan by llm->builtin over the edge link/m);
    assert.match(run.stdout, /^ {2}the LLM was not used: no reply within 150 ms/m);
    assert.match(run.stdout, /^outcome: SUCCESS/m);
  });
});

describe('tg run: unreachable LLM and bad input', () => {
  test('an unreachable LLM URL falls back to the built-in planner', async () => {
    const closed = new ScriptedLlm();
    const url = await closed.start();
    await closed.stop();
    const run = await tgRun([...TASK, '--json', '--brain', 'llm', '--llm-url', url, '--llm-model', 'm']);
    assert.equal(run.code, 0, run.stderr);
    const o = JSON.parse(run.stdout) as EpisodeOutcome;
    assert.equal(o.plan?.planner, 'llm->builtin');
    assert.match(
      o.plan.fallbackReason ?? '',
      /request to http:\/\/127\.0\.0\.1:\d+\/v1\/chat\/completions failed.*ECONNREFUSED/,
    );
    assert.equal(o.success, true, o.reason);
  });

  const errors: [string, string[], RegExp, number][] = [
    [
      'unknown robot',
      ['--robot', 'robot9', '--task', 'x'],
      /^tg: no robot 'robot9' \(robots: arm7, humanoid, service\) \[NOT_FOUND\]$/,
      1,
    ],
    [
      'a robot no scene can run',
      ['--robot', 'service', '--task', 'put the cube in the bin'],
      /robot 'service' is not a fixed-base arm.*\[CONFIG_INVALID\]$/,
      1,
    ],
    [
      'an arm task for a legged robot',
      ['--robot', 'humanoid', '--task', 'put the cube in the bin'],
      /^tg: cannot plan "put the cube in the bin": no object matches "the cube" .*\(scene locomotion\/stand\) \[INPUT_INVALID\]$/,
      1,
    ],
    [
      'an unplannable instruction',
      ['--robot', 'arm7', '--task', 'put the purple elephant in the bin'],
      /^tg: cannot plan "put the purple elephant in the bin": .*\(scene factory\/pick-place\) \[INPUT_INVALID\]$/,
      1,
    ],
    [
      'an unknown scene',
      ['--robot', 'arm7', '--task', 'x', '--scene', 'moon'],
      /^tg: no arm scene 'moon' .*\[NOT_FOUND\]$/,
      1,
    ],
    [
      '--brain llm without a URL',
      ['--robot', 'arm7', '--task', 'x', '--brain', 'llm'],
      /--brain llm needs --llm-url .*\[USAGE\]$/,
      2,
    ],
    [
      'an unknown placement',
      ['--robot', 'arm7', '--task', 'x', '--placement', 'mars'],
      /--placement: expected one of onboard, edge, cloud, got "mars" \[USAGE\]$/,
      2,
    ],
  ];
  for (const [what, args, message, code] of errors) {
    test(`${what}: one line, exit ${code}`, async () => {
      const run = await tgRun(args);
      assert.equal(run.code, code, run.stderr);
      assert.equal(run.stdout, '');
      const lines = run.stderr.trim().split('\n');
      assert.equal(lines.length, 1, run.stderr);
      assert.match(lines[0]!, message);
    });
  }
});
