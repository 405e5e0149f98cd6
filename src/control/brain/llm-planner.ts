/**
 * A planner backed by any OpenAI-compatible chat-completions endpoint (vLLM, Ollama, llama.cpp server,
 * DeepSeek, Qwen/DashScope, OpenAI): POST {url}/v1/chat/completions with the vocabulary and the world in
 * the system prompt, JSON output requested through `response_format: {type: "json_object"}`, and the reply
 * validated against the vocabulary before anyone acts on it.
 *
 * The call is bounded inside the brain's budget by an AbortController; a timeout, an HTTP error, a reply
 * that is not JSON or a plan that fails validation all fall back to the built-in planner, and the plan
 * says so ('llm->builtin', with the reason kept in `fallbackReason`).
 */
import { z } from 'zod';
import { TgError } from '../../errors/index.ts';
import { LAYER_BUDGET_MS } from '../contracts.ts';
import { BuiltinPlanner } from './builtin-planner.ts';
import { parsePlanReply, systemPrompt, userPrompt } from './llm-prompt.ts';
import {
  type BrainPlan,
  isPlanningError,
  type Planner,
  PlanningError,
  type PlanOptions,
  type PlanRequest,
} from './planner.ts';

/** Wall-clock time kept back from the deadline for the fallback planner (ms). */
export const FALLBACK_RESERVE_MS = 20;

export interface LlmPlannerOptions {
  /** Server base URL ('http://127.0.0.1:11434', 'https://api.deepseek.com'); '/v1' and the full path are accepted too. */
  url: string;
  model: string;
  /** Sent as `Authorization: Bearer <key>` when given (local servers need none). */
  apiKey?: string;
  /** Limit on one completion (ms); the planning deadline minus FALLBACK_RESERVE_MS caps it. Default 400. */
  timeoutMs?: number;
  /** Ask for `response_format: json_object` (default true); dropped for good if the server rejects it. */
  jsonMode?: boolean;
  /** Where to turn when the LLM fails (default the built-in planner); null: fail instead. */
  fallback?: Planner | null;
  temperature?: number;
  maxTokens?: number;
}

/** The endpoint for a base URL given with or without '/v1' or the full path. */
export function chatCompletionsUrl(url: string): string {
  const base = url.replace(/\/+$/, '');
  if (base.endsWith('/chat/completions')) return base;
  if (base.endsWith('/v1')) return `${base}/chat/completions`;
  return `${base}/v1/chat/completions`;
}

const COMPLETION = z.object({
  choices: z
    .array(
      z.object({
        message: z.object({ content: z.string().nullable().optional() }),
        finish_reason: z.string().nullable().optional(),
      }),
    )
    .min(1),
});

/** An LLM call that produced no usable text; its message is the fallback reason. */
class LlmCallError extends Error {}

const snippet = (s: string) => (s.length > 120 ? `${s.slice(0, 120)}...` : s).replace(/\s+/g, ' ');

export class LlmPlanner implements Planner {
  readonly name = 'llm';
  readonly endpoint: string;
  private readonly opts: LlmPlannerOptions;
  private readonly fallback: Planner | null;
  private jsonMode: boolean;

  constructor(opts: LlmPlannerOptions) {
    if (!/^https?:\/\//.test(opts.url)) {
      throw new TgError('CONFIG_INVALID', `LLM planner url '${opts.url}' is not an http(s) URL`);
    }
    if (opts.model.trim() === '') throw new TgError('CONFIG_INVALID', 'LLM planner needs a model name');
    this.opts = opts;
    this.endpoint = chatCompletionsUrl(opts.url);
    this.fallback = opts.fallback === undefined ? new BuiltinPlanner() : opts.fallback;
    this.jsonMode = opts.jsonMode ?? true;
  }

  async plan(request: PlanRequest, options: PlanOptions = {}): Promise<BrainPlan> {
    const deadlineMs = options.deadlineMs ?? LAYER_BUDGET_MS.brain;
    const timeoutMs = Math.min(this.opts.timeoutMs ?? 400, deadlineMs - FALLBACK_RESERVE_MS);
    if (timeoutMs <= 0) {
      return this.fallBack(request, `no time for the LLM within a ${deadlineMs} ms deadline`, options);
    }
    let content: string;
    try {
      content = await this.complete(request, timeoutMs, options.signal);
    } catch (err) {
      if (options.signal?.aborted) {
        throw new TgError('INTERRUPTED', `planning "${request.instruction}" was cancelled`, { cause: err });
      }
      if (!(err instanceof LlmCallError)) throw err;
      return this.fallBack(request, err.message, options);
    }
    const check = parsePlanReply(content, request.world);
    if (!check.ok) return this.fallBack(request, `rejected the LLM's plan: ${check.reason}`, options);
    return { instruction: request.instruction, steps: check.steps, planner: this.name };
  }

  private async fallBack(request: PlanRequest, reason: string, options: PlanOptions): Promise<BrainPlan> {
    if (!this.fallback) throw new PlanningError(request.instruction, [`LLM planner: ${reason}`]);
    try {
      const plan = await this.fallback.plan(request, options);
      return { ...plan, planner: `${this.name}->${plan.planner}`, fallbackReason: reason };
    } catch (err) {
      if (!isPlanningError(err)) throw err;
      throw new PlanningError(request.instruction, [`LLM planner: ${reason}`, ...err.problems], {
        cause: err,
      });
    }
  }

  /** One completion's text; throws LlmCallError for everything that should fall back. */
  private async complete(request: PlanRequest, timeoutMs: number, outer?: AbortSignal): Promise<string> {
    const started = performance.now();
    const abort = new AbortController();
    const onOuter = () => abort.abort(outer?.reason);
    outer?.addEventListener('abort', onOuter, { once: true });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      abort.abort();
    }, timeoutMs);
    try {
      for (;;) {
        const res = await fetch(this.endpoint, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            accept: 'application/json',
            ...(this.opts.apiKey ? { authorization: `Bearer ${this.opts.apiKey}` } : {}),
          },
          body: JSON.stringify(this.body(request)),
          signal: abort.signal,
        });
        const text = await res.text();
        if (res.status === 400 && this.jsonMode && /response_format|json_object/i.test(text)) {
          // The server does not support JSON mode: ask again without it (the prompt still demands JSON).
          this.jsonMode = false;
          continue;
        }
        if (!res.ok) throw new LlmCallError(`HTTP ${res.status} from ${this.endpoint}: ${snippet(text)}`);
        let body: unknown;
        try {
          body = JSON.parse(text);
        } catch {
          throw new LlmCallError(`the server's response is not JSON: ${snippet(text)}`);
        }
        const parsed = COMPLETION.safeParse(body);
        if (!parsed.success) {
          throw new LlmCallError(`the server's response is not a chat completion: ${snippet(text)}`);
        }
        const choice = parsed.data.choices[0]!;
        if (choice.finish_reason === 'length') {
          throw new LlmCallError('the reply was cut off at the token limit (finish_reason "length")');
        }
        if (!choice.message.content) throw new LlmCallError('the reply has no content');
        return choice.message.content;
      }
    } catch (err) {
      if (err instanceof LlmCallError || outer?.aborted) throw err;
      if (timedOut) {
        throw new LlmCallError(`no reply within ${timeoutMs} ms (${this.opts.model} at ${this.endpoint})`);
      }
      const ms = Math.round(performance.now() - started);
      const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
      throw new LlmCallError(`request to ${this.endpoint} failed after ${ms} ms: ${cause}`);
    } finally {
      clearTimeout(timer);
      outer?.removeEventListener('abort', onOuter);
    }
  }

  private body(request: PlanRequest): Record<string, unknown> {
    return {
      model: this.opts.model,
      messages: [
        { role: 'system', content: systemPrompt(request.world) },
        { role: 'user', content: userPrompt(request) },
      ],
      temperature: this.opts.temperature ?? 0,
      max_tokens: this.opts.maxTokens ?? 1024,
      stream: false,
      ...(this.jsonMode ? { response_format: { type: 'json_object' } } : {}),
    };
  }
}
