/** The baseline's server: plain node:http on loopback that reads each body in full and answers 200. */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { report, runChild } from './child.ts';

runChild(async () => {
  const server = http.createServer((req, res) => {
    let bytes = 0;
    req.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
    });
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ bytes }));
    });
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  report({ type: 'ready', url: `http://127.0.0.1:${port}/` });
  await new Promise<void>((resolve) => process.once('SIGTERM', resolve));
  server.close();
  process.exit(0);
});
