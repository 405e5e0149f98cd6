/** Worker side of ./frame-copier.ts WorkerCopier: an InlineCopier fed by messages, one COPY at a time. */
import { parentPort, workerData } from 'node:worker_threads';
import { type CopyReply, type CopyRequest, InlineCopier } from './frame-copier.ts';
import type { FrameColumn } from './frame-source.ts';

const port = parentPort;
if (!port) throw new Error('frame-copier-worker must run as a worker thread');
const reply = (m: CopyReply) => port.postMessage(m);

try {
  const copier = await InlineCopier.create((workerData as { columns: FrameColumn[] }).columns);
  let queue = Promise.resolve();
  port.on('message', (req: CopyRequest) => {
    queue = queue.then(() =>
      copier.copy(req.blocks, req.target, req.options).then(
        () => reply({ id: req.id }),
        (err: unknown) => reply({ id: req.id, error: (err as Error)?.message ?? String(err) }),
      ),
    );
  });
  reply({ ready: true });
} catch (err) {
  reply({ failed: (err as Error)?.message ?? String(err) });
}
