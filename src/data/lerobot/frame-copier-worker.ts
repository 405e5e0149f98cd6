/**
 * Worker side of ./frame-copier.ts WorkerCopier: an InlineCopier fed by requests on one port, one COPY at a
 * time. While a stream's COPY waits for its next block this thread sleeps on the shared signal (it has
 * nothing else to do), taking requests off the port synchronously.
 */
import { type MessagePort, parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import {
  blockKib,
  CONSUMED,
  type CopyReply,
  type CopyRequest,
  InlineCopier,
  SIGNAL,
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
      const seen = Atomics.load(shared, SIGNAL);
      const request = take();
      if (request) return request;
      Atomics.wait(shared, SIGNAL, seen);
    }
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
    Atomics.add(shared, CONSUMED, blockKib(request.block));
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
              try {
                await copier.copyStream(nextBlock, target, options);
              } finally {
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
        else if (request.kind === 'block') Atomics.add(shared, CONSUMED, blockKib(request.block));
      }
    } finally {
      busy = false;
    }
  };
  port.on('message', (request: CopyRequest) => {
    queue.push(request);
    void pump();
  });
  reply({ ready: true });
} catch (err) {
  reply({ failed: errorText(err) });
}
