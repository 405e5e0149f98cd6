/**
 * A verification thread of the hub's ingest (see ./bundle-workers.ts): verifies the bundles of one unit
 * (an upload or a batch), keeps their bytes, and on request writes the ones the hub keeps (of one or more
 * units, as one pack) to the blob store or forgets them. Hashing, parsing and file writes never run on the thread that serves HTTP.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { isTgError } from '../../errors/index.ts';
import { BULK_THREAD_NICE, lowerThreadPriority } from '../../threads/index.ts';
import { BlobStore, type HashedBlob } from '../blobs/index.ts';
import type { WorkerData, WorkerReply, WorkerRequest } from './bundle-workers.ts';
import { verifyUpload } from './verify.ts';

const port = parentPort;
if (!port) throw new Error('bundle-worker must run in a worker thread');
const data = workerData as WorkerData;
// Verification is bulk work: the threads that answer the API (main, catalog) go first on a busy machine.
lowerThreadPriority(BULK_THREAD_NICE);
const store = new BlobStore(data.root, { maxBytes: data.maxBundleBytes });
const held = new Map<number, HashedBlob[]>();
const reply = (r: WorkerReply) => port.postMessage(r);

port.on('message', async (m: WorkerRequest) => {
  if (m.type === 'verify') {
    const bytes = new Uint8Array(m.buffer);
    const verified = [];
    const keep: HashedBlob[] = [];
    for (const [index, e] of m.entries.entries()) {
      const bundle = bytes.subarray(e.offset, e.offset + e.length);
      try {
        const v = verifyUpload({ bundle, sha256: e.sha256, id: e.id }, data.maxBundleBytes);
        verified.push(v);
        keep.push({ bytes: bundle, sha256: v.sha256 });
      } catch (err) {
        const code = isTgError(err) ? err.code : 'INPUT_INVALID';
        reply({ type: 'refused', ticket: m.ticket, index, code, message: (err as Error).message });
        return;
      }
    }
    held.set(m.ticket, keep);
    reply({ type: 'verified', ticket: m.ticket, verified });
  } else if (m.type === 'write') {
    const blobs: HashedBlob[] = [];
    for (const { ticket, indexes } of m.parts) {
      const keep = held.get(ticket) ?? [];
      held.delete(ticket);
      for (const i of indexes) blobs.push(keep[i] as HashedBlob);
    }
    try {
      const pack = await store.putHashed(blobs, { durable: m.durable });
      reply({ type: 'written', ticket: m.ticket, pack });
    } catch (err) {
      reply({ type: 'failed', ticket: m.ticket, message: (err as Error).message });
    }
  } else {
    held.delete(m.ticket);
  }
});
