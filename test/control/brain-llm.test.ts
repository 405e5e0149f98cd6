/**
 * The LLM planner against a local HTTP server that speaks the OpenAI chat-completions protocol with
 * scripted replies: valid plans, fenced and "thinking" replies, malformed JSON, plans that break the
 * vocabulary, HTTP errors, servers without JSON mode, and replies slower than the timeout.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { BrainLink } from '../../src/control/brain/brain-link.ts';
import {
  chatCompletionsUrl,
  LlmPlanner,
  type LlmPlannerOptions,
} from '../../src/control/brain/llm-planner.ts';
import { PlanExecutor } from '../../src/control/brain/plan-executor.ts';
import { isPlanningError, type PlanRequest } from '../../src/control/brain/planner.ts';
import type { WorldSummary } from '../../src/control/brain/world-summary.ts';
import { isTgError } from '../../src/errors/index.ts';
import { FakeRobot, humanoidWorld, pickPlaceWorld } from './brain-worlds.ts';

interface Reply {
  status?: number;
  /** The assistant message content (wrapped in a chat completion), or a raw body when `raw` is set. */
  content?: string;
  raw?: string;
  delayMs?: number;
  finishReason?: string;
}

interface Received {
  url: string;
  headers: IncomingHttpHeaders;
  body: {
    model: string;
    messages: { role: string; content: string }[];
    response_format?: { type: string };
    temperature: number;
  };
}

/** The scripted server: replies are taken in order, one per request. */
class ChatServer {
  readonly received: Received[] = [];
  private script: (Reply | ((r: Received) => Reply))[] = [];
  private readonly server = createServer((req, res) => {
    let data = '';
    req.on('data', (c) => {
      data += c;
    });
    req.on('end', () => {
      const r: Received = { url: req.url ?? '', headers: req.headers, body: JSON.parse(data) };
      this.received.push(r);
      const next = this.script.shift() ?? { status: 500, raw: 'no scripted reply left' };
      const reply = typeof next === 'function' ? next(r) : next;
      const send = () => {
        if (res.destroyed) return;
        const body =
          reply.raw ??
          JSON.stringify({
            id: 'chatcmpl-test',
            object: 'chat.completion',
            model: r.body.model,
            choices: [
              {
                index: 0,
                message: { role: 'assistant', content: reply.content },
                finish_reason: reply.finishReason ?? 'stop',
              },
            ],
          });
        res.writeHead(reply.status ?? 200, { 'content-type': 'application/json' });
        res.end(body);
      };
      if (reply.delayMs) setTimeout(send, reply.delayMs).unref();
      else send();
    });
  });
  url = '';

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  reply(...replies: (Reply | ((r: Received) => Reply))[]): void {
    this.script = replies;
    this.received.length = 0;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

const server = new ChatServer();
before(() => server.start());
after(() => server.stop());

const PICK_PLACE = JSON.stringify({
  steps: [
    { skill: 'pick', args: { object: 'cube' } },
    { skill: 'place', args: { target: 'bin' } },
  ],
});
const BUILTIN_STEPS = [
  { skill: 'pick', args: { object: 'cube' } },
  { skill: 'place', args: { target: 'bin' } },
];

/**
 * Planning deadline for tests that are not about it: the default (the brain's 500 ms budget) would cap the
 * LLM call at 480 ms, which a loaded 2-core test machine can miss even on localhost.
 */
const LOOSE = { deadlineMs: 20_000 };

function planner(opts: Partial<LlmPlannerOptions> = {}): LlmPlanner {
  return new LlmPlanner({ url: server.url, model: 'qwen2.5-7b-instruct', timeoutMs: 10_000, ...opts });
}

const request = (
  instruction = 'put the red cube in the bin',
  world: WorldSummary = pickPlaceWorld(),
): PlanRequest => ({
  instruction,
  world,
});

describe('LLM planner: valid replies', () => {
  test('a valid JSON plan is used as is, and the request carries the vocabulary and the world', async () => {
    server.reply({ content: PICK_PLACE });
    const p = await planner({ apiKey: 'sk-test' }).plan(request(), LOOSE);
    assert.equal(p.planner, 'llm');
    assert.equal(p.fallbackReason, undefined);
    assert.equal(p.instruction, 'put the red cube in the bin');
    assert.deepEqual(p.steps, BUILTIN_STEPS);

    const [r] = server.received;
    assert.equal(r!.url, '/v1/chat/completions');
    assert.equal(r!.headers.authorization, 'Bearer sk-test');
    assert.equal(r!.body.model, 'qwen2.5-7b-instruct');
    assert.deepEqual(r!.body.response_format, { type: 'json_object' });
    assert.equal(r!.body.temperature, 0);
    const [system, user] = r!.body.messages;
    assert.equal(system!.role, 'system');
    // The arm's skills with their JSON Schemas, not the humanoid's.
    assert.match(
      system!.content,
      /- pick: .*args: \{"type":"object","properties":\{"object":\{"type":"string"/,
    );
    assert.match(system!.content, /- move_to: .*"position":\{"type":"array","prefixItems"/);
    assert.doesNotMatch(system!.content, /- walk_to:/);
    assert.match(system!.content, /"name":"cube".*"name":"bin"/);
    assert.deepEqual(user, { role: 'user', content: 'Instruction: put the red cube in the bin' });
  });

  test('no key, no Authorization header; a base URL with /v1 or the full path works too', async () => {
    assert.equal(chatCompletionsUrl('http://h:1/v1/'), 'http://h:1/v1/chat/completions');
    assert.equal(chatCompletionsUrl('http://h:1/v1/chat/completions'), 'http://h:1/v1/chat/completions');
    server.reply({ content: PICK_PLACE });
    const p = await planner({ url: `${server.url}/v1` }).plan(request(), LOOSE);
    assert.equal(p.planner, 'llm');
    assert.equal(server.received[0]!.headers.authorization, undefined);
  });

  test('reasoning blocks and markdown fences around the JSON are removed; a bare array is accepted', async () => {
    server.reply(
      { content: `<think>The cube must be picked first.</think>\n\`\`\`json\n${PICK_PLACE}\n\`\`\`` },
      { content: JSON.stringify([{ skill: 'stand', args: { seconds: 3 } }]) },
    );
    assert.deepEqual((await planner().plan(request(), LOOSE)).steps, BUILTIN_STEPS);
    const p = await planner().plan(request('balance', humanoidWorld()), LOOSE);
    assert.equal(p.planner, 'llm');
    assert.deepEqual(p.steps, [{ skill: 'stand', args: { seconds: 3 } }]);
  });

  test('a server that rejects response_format is asked again without it', async () => {
    server.reply(
      { status: 400, raw: '{"error":{"message":"response_format is not supported by this model"}}' },
      { content: PICK_PLACE },
      { content: PICK_PLACE },
    );
    const llm = planner();
    assert.equal((await llm.plan(request(), LOOSE)).planner, 'llm');
    assert.equal((await llm.plan(request(), LOOSE)).planner, 'llm');
    assert.deepEqual(
      server.received.map((r) => r.body.response_format?.type ?? null),
      ['json_object', null, null],
    );
  });

  test('a replan request tells the model what failed', async () => {
    server.reply({ content: PICK_PLACE });
    await planner().plan(
      {
        ...request(),
        failure: {
          index: 0,
          step: { skill: 'pick', args: { object: 'cube' } },
          reason: 'slip detected',
          completed: [],
          replan: 1,
        },
      },
      LOOSE,
    );
    const user = server.received[0]!.body.messages[1]!.content;
    assert.match(user, /failed at step 1 \(\{"skill":"pick","args":\{"object":"cube"\}\}\): slip detected/);
    assert.match(user, /replan 1/);
  });
});

describe('LLM planner: fallback to the built-in planner', () => {
  const cases: [string, Reply, RegExp][] = [
    [
      'malformed JSON',
      { content: '{"steps": [{"skill": "pick", "args": {"object": "cube"}' },
      /malformed JSON/,
    ],
    ['prose instead of JSON', { content: 'Sure! First pick the cube, then place it.' }, /malformed JSON/],
    [
      'an unknown skill',
      { content: '{"steps":[{"skill":"teleport","args":{}}]}' },
      /step 1: unknown skill 'teleport'/,
    ],
    [
      'arguments that break the schema',
      { content: '{"steps":[{"skill":"pick","args":{"object":"cube","force":9}}]}' },
      /step 1 \(pick\): args: Unrecognized key/,
    ],
    [
      'a wrong argument type',
      { content: '{"steps":[{"skill":"move_to","args":{"position":"above the bin"}}]}' },
      /step 1 \(move_to\): args.position/,
    ],
    [
      'an object that does not exist',
      {
        content:
          '{"steps":[{"skill":"pick","args":{"object":"banana"}},{"skill":"place","args":{"target":"bin"}}]}',
      },
      /unknown object 'banana'/,
    ],
    [
      "a skill the robot doesn't have",
      { content: '{"steps":[{"skill":"walk_to","args":{"x":1,"y":0}}]}' },
      /robot 'arm7' \(arm\) has no 'walk_to' skill/,
    ],
    ['no steps key', { content: '{"actions":[]}' }, /reply has no "steps" array/],
    ['an empty plan', { content: '{"steps":[]}' }, /the model returned an empty plan/],
    [
      'a refusal',
      { content: '{"steps":[],"error":"I cannot see a bin"}' },
      /the model declined: I cannot see a bin/,
    ],
    [
      'HTTP 500',
      { status: 500, raw: '{"error":"CUDA out of memory"}' },
      /HTTP 500 from .*CUDA out of memory/,
    ],
    ['HTTP 401', { status: 401, raw: '{"error":"invalid api key"}' }, /HTTP 401/],
    ['a body that is not JSON', { raw: '<html>bad gateway</html>' }, /response is not JSON/],
    ['a response that is not a chat completion', { raw: '{"ok":true}' }, /not a chat completion/],
    ['a truncated reply', { content: '{"steps":[', finishReason: 'length' }, /cut off at the token limit/],
  ];
  for (const [what, reply, reason] of cases) {
    test(`${what} -> 'llm->builtin', reason kept`, async () => {
      server.reply(reply);
      const p = await planner().plan(request(), LOOSE);
      assert.equal(p.planner, 'llm->builtin');
      assert.match(p.fallbackReason ?? '', reason);
      assert.deepEqual(p.steps, BUILTIN_STEPS);
      assert.equal(server.received.length, 1);
    });
  }

  test('a reply slower than the timeout is abandoned for the built-in plan', async () => {
    server.reply({ content: PICK_PLACE, delayMs: 3000 });
    const p = await planner({ timeoutMs: 100 }).plan(request(), LOOSE);
    assert.equal(p.planner, 'llm->builtin');
    assert.match(
      p.fallbackReason!,
      /no reply within 100 ms \(qwen2.5-7b-instruct at http:\/\/127\.0\.0\.1:\d+\/v1\/chat\/completions\)/,
    );
    assert.deepEqual(p.steps, BUILTIN_STEPS);
  });

  test('the planning deadline caps the timeout, keeping time for the fallback', async () => {
    server.reply({ content: PICK_PLACE, delayMs: 3000 });
    const p = await planner({ timeoutMs: 5000 }).plan(request(), { deadlineMs: 120 });
    assert.match(p.fallbackReason!, /no reply within 100 ms/);
    // A deadline shorter than the fallback reserve does not call the server at all.
    server.reply({ content: PICK_PLACE });
    const q = await planner().plan(request(), { deadlineMs: 15 });
    assert.match(q.fallbackReason!, /no time for the LLM within a 15 ms deadline/);
    assert.equal(server.received.length, 0);
  });

  test('an unreachable server falls back with the connection error', async () => {
    const closed = new ChatServer();
    await closed.start();
    const url = closed.url;
    await closed.stop();
    const p = await new LlmPlanner({ url, model: 'm' }).plan(request(), LOOSE);
    assert.equal(p.planner, 'llm->builtin');
    assert.match(
      p.fallbackReason!,
      /request to http:\/\/127\.0\.0\.1:\d+\/v1\/chat\/completions failed after \d+ ms: ECONNREFUSED/,
    );
  });

  test('without a fallback, or when the fallback cannot plan either, a PlanningError names both reasons', async () => {
    server.reply({ status: 500, raw: 'boom' });
    await assert.rejects(planner({ fallback: null }).plan(request(), LOOSE), (e) => {
      assert.ok(isPlanningError(e));
      assert.match(e.message, /cannot plan "put the red cube in the bin": LLM planner: HTTP 500/);
      return true;
    });
    server.reply({ content: '{"steps":[{"skill":"fly","args":{}}]}' });
    await assert.rejects(planner().plan(request('juggle the cube'), LOOSE), (e) => {
      assert.ok(isPlanningError(e));
      assert.deepEqual(e.problems.slice(0, 2), [
        "LLM planner: rejected the LLM's plan: step 1: unknown skill 'fly'",
        'did not understand "juggle the cube"',
      ]);
      return true;
    });
  });

  test('a caller that cancels gets INTERRUPTED, not a fallback plan', async () => {
    server.reply({ content: PICK_PLACE, delayMs: 3000 });
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 50);
    await assert.rejects(planner().plan(request(), { ...LOOSE, signal: abort.signal }), (e) => {
      assert.ok(isTgError(e));
      assert.equal(e.code, 'INTERRUPTED');
      return true;
    });
  });

  test('bad configuration is refused up front', () => {
    assert.throws(() => new LlmPlanner({ url: 'localhost:8000', model: 'm' }), /is not an http\(s\) URL/);
    assert.throws(() => new LlmPlanner({ url: 'http://x', model: ' ' }), /needs a model name/);
  });
});

describe('LLM planner in the loop', () => {
  test('a failed step is replanned by the LLM from the current world state', async () => {
    server.reply({ content: PICK_PLACE }, { content: PICK_PLACE });
    const robot = new FakeRobot(pickPlaceWorld(), { pick: ['fail'] });
    const link = new BrainLink(planner(), {
      placement: 'edge',
      lossRate: 0,
      computeMs: 50,
      seed: 1,
      planDeadlineMs: LOOSE.deadlineMs,
    });
    const exec = new PlanExecutor({ brain: link, cerebellum: robot, world: () => robot.world });
    exec.begin('put the red cube in the bin', 0);
    for (let k = 0; k < 1000 && !exec.done; k++) {
      const pending = exec.settled();
      if (pending) await pending;
      exec.tick(k * 0.01);
      robot.step();
    }
    assert.equal(exec.state, 'succeeded');
    assert.equal(exec.replans, 1);
    assert.equal(server.received.length, 2);
    // The replan saw the world after the failure (nothing held) and was told what failed.
    const [system, user] = server.received[1]!.body.messages;
    assert.match(user!.content, /pick: slip detected, object lost/);
    assert.match(system!.content, /"held":null/);
    assert.deepEqual(
      exec.events
        .filter((e) => e.kind === 'plan_received')
        .map((e) => e.kind === 'plan_received' && e.planner),
      ['llm', 'llm'],
    );
    assert.deepEqual(robot.world.objects[0]!.pos, [0.4, -0.3, 0]);
  });
});
