/**
 * The spine's safety events. The hot path only writes into preallocated slots; `drain` turns them into
 * `SafetyEvent` objects for a sink (the episode recorder, a log) outside the timed tick. A full queue
 * drops the newest event and counts it: events are never lost silently.
 */
import type { EpisodeEvent } from '../../data/episode.ts';
import type { SafetyEvent, SafetyEventKind } from '../contracts.ts';

export type SafetyEventSink = (event: SafetyEvent) => void;

/** The episode's record of a safety event (src/data/episode.ts): its frame at `fps`, the numbers as text. */
export function toEpisodeEvent(e: SafetyEvent, fps: number): EpisodeEvent {
  const parts: string[] = [];
  if (e.target !== undefined) parts.push(`target=${e.target}`);
  if (e.value !== undefined) parts.push(`value=${Number(e.value.toPrecision(6))}`);
  if (e.limit !== undefined) parts.push(`limit=${Number(e.limit.toPrecision(6))}`);
  if (e.category !== undefined) parts.push(`category=${e.category}`);
  const event: EpisodeEvent = { frame: Math.max(0, Math.floor(e.tSec * fps + 1e-9)), kind: e.kind };
  if (parts.length > 0) event.detail = parts.join(' ');
  return event;
}

export class SafetyEventQueue {
  /** Events that did not fit since construction. */
  dropped = 0;
  private readonly kinds: (SafetyEventKind | undefined)[];
  private readonly targets: (string | undefined)[];
  private readonly tSec: Float64Array;
  private readonly value: Float64Array;
  private readonly limit: Float64Array;
  private readonly category: Int8Array;
  private head = 0;
  private count = 0;

  constructor(readonly capacity = 256) {
    this.kinds = new Array<SafetyEventKind | undefined>(capacity).fill(undefined);
    this.targets = new Array<string | undefined>(capacity).fill(undefined);
    this.tSec = new Float64Array(capacity);
    this.value = new Float64Array(capacity);
    this.limit = new Float64Array(capacity);
    this.category = new Int8Array(capacity);
  }

  get size(): number {
    return this.count;
  }

  /** NaN value/limit and category -1 mean "not given". Does not allocate. */
  push(
    kind: SafetyEventKind,
    tSec: number,
    target: string | undefined,
    value: number,
    limit: number,
    category = -1,
  ): void {
    if (this.count === this.capacity) {
      this.dropped++;
      return;
    }
    const i = (this.head + this.count) % this.capacity;
    this.kinds[i] = kind;
    this.targets[i] = target;
    this.tSec[i] = tSec;
    this.value[i] = value;
    this.limit[i] = limit;
    this.category[i] = category;
    this.count++;
  }

  /** Hands every queued event to `sink` in order; returns how many. */
  drain(sink: SafetyEventSink): number {
    const n = this.count;
    for (let k = 0; k < n; k++) {
      const i = this.head;
      const e: SafetyEvent = { kind: this.kinds[i]!, tSec: this.tSec[i]! };
      const target = this.targets[i];
      if (target !== undefined) e.target = target;
      if (!Number.isNaN(this.value[i]!)) e.value = this.value[i]!;
      if (!Number.isNaN(this.limit[i]!)) e.limit = this.limit[i]!;
      const c = this.category[i]!;
      if (c === 0 || c === 1 || c === 2) e.category = c;
      this.kinds[i] = undefined;
      this.targets[i] = undefined;
      this.head = (this.head + 1) % this.capacity;
      this.count--;
      sink(e);
    }
    return n;
  }

  clear(): void {
    this.kinds.fill(undefined);
    this.targets.fill(undefined);
    this.head = 0;
    this.count = 0;
  }
}
