/**
 * Worker side of ./frame-copier.ts WorkerCopier: an InlineCopier fed by requests on one port, one COPY at a
 * time. While a stream's COPY waits for its next block this thread sleeps on the shared signal (it has
 * nothing else to do), taking requests off the port synchronously.
 */
import { type MessagePort, parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import {
  blockKib,
  CALLER_WAITING,
  CONSUMED,
  type CopyReply,
  type CopyRequest,
  InlineCopier,
  SIGNAL,
  WORKER_POLL_MS,
  WORKER_WAITING,
} from './frame-copier.ts';
import type { FrameBlock, FrameColumn } from './frame-source.ts';

const parent = parentPort;
if (!parent) throw new Error('frame-copier-worker must run as a worker thread');
const reply = (m: CopyReply) => parent.postMessage(m);
const errorText = (err: unknown) => (err as Error)?.message ?? String(err);

const { port, shared, returns } = await new Promise<{
  port: MessagePort;
  shared: Int32Array;
  returns: MessagePort;
}>((resolve) => {
  parent.once('message', resolve);
});

try {
  const copier = await InlineCopier.create((workerData as { columns: FrameColumn[] }).columns);
  // Requests the port delivered as events while this thread was busy, oldest first.
  const queue: CopyRequest[] = [];
  const take = (): CopyRequest | undefined =>
    queue.shift() ?? (receiveMessageOnPort(port)?.message as CopyRequest | undefined);
  const takeWaiting = (): CopyRequest => {
    for (;;) {
      // Announce the sleep before the last look, so a request posted after it notifies (see SIGNAL).
      Atomics.store(shared, WORKER_WAITING, 1);
      const seen = Atomics.load(shared, SIGNAL);
      const request = take();
      if (request) {
        Atomics.store(shared, WORKER_WAITING, 0);
        return request;
      }
      Atomics.wait(shared, SIGNAL, seen, WORKER_POLL_MS);
      Atomics.store(shared, WORKER_WAITING, 0);
    }
  };
  /** Counts a block as taken, waking the caller if it waits for room. */
  const taken = (block: FrameBlock) => {
    Atomics.add(shared, CONSUMED, blockKib(block));
    if (Atomics.load(shared, CALLER_WAITING) === 1) Atomics.notify(shared, CONSUMED);
  };
  /** The block DuckDB is reading; once it asks for the next, its buffers go back for reuse. */
  let reading: FrameBlock | undefined;
  const giveBack = () => {
    if (!reading) return;
    const buffers = [...new Set(reading.columns.map((c) => c.buffer as ArrayBuffer))];
    reading = undefined;
    returns.postMessage(buffers, buffers);
  };
  /** The stream's next block, or undefined at its end (DuckDB calls this from the COPY). */
  const nextBlock = (): FrameBlock | undefined => {
    // The source copies a block into DuckDB's vectors before it asks for the next one.
    giveBack();
    const request = takeWaiting();
    if (request.kind === 'end') return undefined;
    if (request.kind !== 'block') throw new Error(`frame copier: ${request.kind} inside a stream`);
    taken(request.block);
    reading = request.block;
    return request.block;
  };
  let busy = false;
  const pump = async () => {
    if (busy) return;
    busy = true;
    try {
      for (let request = take(); request; request = take()) {
        if (request.kind === 'copy' || request.kind === 'begin') {
          const { id, target, options } = request;
          try {
            if (request.kind === 'copy') await copier.copy(request.blocks, target, options);
            else {
              // During the stream its blocks are taken synchronously: no 'message' event (and no JS on
              // this thread) per block.
              port.off('message', onRequest);
              try {
                await copier.copyStream(nextBlock, target, options);
              } finally {
                port.on('message', onRequest);
                // A failed COPY may not have read its last block: nothing is given back from it.
                reading = undefined;
              }
            }
            reply({ id });
          } catch (err) {
            reply({ id, error: errorText(err) });
          }
        }
        // A block or end outside a stream is what is left of a stream that failed: dropped (and counted
        // as taken, so the caller's room() does not wait for it).
        else if (request.kind === 'block') taken(request.block);
      }
    } finally {
      busy = false;
    }
  };
  function onRequest(request: CopyRequest) {
    queue.push(request);
    void pump();
  }
  port.on('message', onRequest);
  reply({ ready: true });
} catch (err) {
  reply({ failed: errorText(err) });
}
