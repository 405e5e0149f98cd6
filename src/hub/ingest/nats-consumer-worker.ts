/**
 * The hub's JetStream bundle consumer thread (see ./nats-consumer.ts): takes messages from the durable
 * pull consumer, reassembles chunked bundles, delivers bundles to the main thread in batches (one buffer
 * each, transferred) and holds every message until the main thread settles it. Held messages get a
 * "working" ack every third of the ack wait; at `maxInFlight` held messages it stops taking more.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { type JsMsg, jetstream } from '@nats-io/jetstream';
import { connect } from '@nats-io/transport-node';
import { HDR_CHUNK, HDR_CHUNKS, HDR_EPISODE_ID, HDR_SHA256 } from '../../field/transport/nats-layout.ts';
import { BULK_THREAD_NICE, lowerThreadPriority } from '../../threads/index.ts';
import type { ConsumerReply, ConsumerRequest, DeliveredBundle, NatsConsumerConfig } from './nats-consumer.ts';

/** Messages taken between two turns of the event loop (settlements arrive as events). */
const YIELD_EVERY_MESSAGES = 32;

const port = parentPort;
if (!port) throw new Error('nats-consumer-worker must run in a worker thread');
const config = workerData as NatsConsumerConfig;
lowerThreadPriority(BULK_THREAD_NICE);
const reply = (r: ConsumerReply, transfer: ArrayBuffer[] = []) => port.postMessage(r, transfer);

/** A bundle taken and not settled: its messages (several when chunked) and its bytes, for a resend. */
interface Held {
  msgs: JsMsg[];
  id: string;
  sha256: string | undefined;
  parts: Uint8Array[];
}

interface Assembly {
  parts: Array<Uint8Array | undefined>;
  received: number;
  msgs: JsMsg[];
}

const held = new Map<number, Held>();
let heldMessages = 0;
let nextKey = 1;
const assemblies = new Map<string, Assembly>();
/** Bundles taken and not yet delivered (see `deliver`). */
let pending: number[] = [];
let deliverScheduled = false;
/** Resolves the consume loop's wait when settlements made room. */
let roomMade: (() => void) | null = null;

const nc = await connect({ servers: config.url, maxReconnectAttempts: -1 }).catch((err: unknown) => {
  reply({ type: 'error', message: (err as Error).message });
  return null;
});
if (nc) {
  try {
    const consumer = await jetstream(nc).consumers.get(config.stream, config.consumer);
    const messages = await consumer.consume({ max_messages: 64 });
    const keepAlive = setInterval(() => {
      for (const h of held.values()) for (const m of h.msgs) m.working();
    }, config.ackWaitMs / 3);

    port.on('message', (m: ConsumerRequest) => {
      if (m.type === 'settle') {
        for (const key of m.keys) {
          const h = held.get(key);
          if (!h) continue;
          held.delete(key);
          heldMessages -= h.msgs.length;
          for (const msg of h.msgs) {
            if (m.action === 'ack') msg.ack();
            // No reason on the term: servers before 2.10.4 ignore a "+TERM <reason>" (the message then stays
            // pending and is redelivered forever); the main thread reports the reason.
            else if (m.action === 'term') msg.term();
            else msg.nak(m.delayMs);
          }
        }
        if (heldMessages < config.maxInFlight) roomMade?.();
      } else if (m.type === 'resend') {
        for (const key of m.keys) if (held.has(key)) deliver([key]);
      } else if (m.type === 'close') {
        clearInterval(keepAlive);
        void (async () => {
          await messages.close().catch(() => {});
          await nc.drain().catch(() => nc.close());
          reply({ type: 'closed' });
        })();
      }
    });

    void (async () => {
      let taken = 0;
      for await (const msg of messages) {
        take(msg);
        // Wait for settlements while bundles are out (chunks of unfinished bundles alone cannot be settled).
        while (heldMessages >= config.maxInFlight && (held.size > 0 || pending.length > 0)) {
          flush();
          await new Promise<void>((resolve) => {
            roomMade = resolve;
          });
          roomMade = null;
        }
        // Buffered messages come back to back as microtasks: let settlements in now and then.
        if (++taken % YIELD_EVERY_MESSAGES === 0) await new Promise((resolve) => setImmediate(resolve));
      }
      flush();
    })().catch((err: unknown) => reply({ type: 'error', message: (err as Error).message }));
    reply({ type: 'ready' });
  } catch (err) {
    reply({ type: 'error', message: (err as Error).message });
    await nc.close().catch(() => {});
  }
}

function take(msg: JsMsg): void {
  const id = msg.headers?.get(HDR_EPISODE_ID) ?? '';
  const sha256 = msg.headers?.get(HDR_SHA256) || undefined;
  const chunks = Number(msg.headers?.get(HDR_CHUNKS) || '1');
  if (chunks <= 1) {
    hold({ msgs: [msg], id, sha256, parts: [msg.data] });
    return;
  }
  const index = Number(msg.headers?.get(HDR_CHUNK));
  if (!Number.isInteger(index) || index < 0 || index >= chunks || chunks > 100_000) {
    msg.term(); // bad chunk headers
    return;
  }
  let a = assemblies.get(id);
  if (!a || a.parts.length !== chunks) {
    a = { parts: Array.from({ length: chunks }, () => undefined), received: 0, msgs: [] };
    assemblies.set(id, a);
  }
  if (a.parts[index] === undefined) a.received++;
  a.parts[index] = msg.data;
  a.msgs.push(msg);
  heldMessages++;
  if (a.received < chunks) return; // wait for the rest (all settled together after the commit)
  assemblies.delete(id);
  heldMessages -= a.msgs.length;
  hold({ msgs: a.msgs, id, sha256, parts: a.parts as Uint8Array[] });
}

function hold(h: Held): void {
  const key = nextKey++;
  held.set(key, h);
  heldMessages += h.msgs.length;
  pending.push(key);
  if (pending.length >= config.batchMessages) flush();
  else if (!deliverScheduled) {
    deliverScheduled = true;
    setImmediate(flush);
  }
}

function flush(): void {
  deliverScheduled = false;
  const keys = pending;
  pending = [];
  if (keys.length > 0) deliver(keys);
}

/** Posts bundles as one delivery: their bytes copied into one buffer, which moves to the main thread. */
function deliver(keys: number[]): void {
  let total = 0;
  for (const key of keys) for (const p of held.get(key)!.parts) total += p.byteLength;
  const buffer = new ArrayBuffer(total);
  const bytes = new Uint8Array(buffer);
  const bundles: DeliveredBundle[] = [];
  let at = 0;
  for (const key of keys) {
    const h = held.get(key)!;
    const offset = at;
    for (const p of h.parts) {
      bytes.set(p, at);
      at += p.byteLength;
    }
    bundles.push({ key, id: h.id, sha256: h.sha256, offset, length: at - offset });
  }
  reply({ type: 'bundles', buffer, bundles }, [buffer]);
}
