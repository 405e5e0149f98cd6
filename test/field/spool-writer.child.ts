/**
 * Child process for the spool crash test: appends large bundles to a spool forever, printing each
 * entry's seq and id once `append` resolved. The parent SIGKILLs it mid-write.
 */
import { Spool } from '../../src/field/spool/index.ts';
import { encodeBundle } from '../../src/field/transfer/index.ts';
import { makeEpisode } from './fixtures.ts';

const dir = process.argv[2] as string;
const spool = Spool.open({ dir });
for (let seed = 0; ; seed++) {
  // ~4 MB per bundle so a kill lands mid-write most of the time
  const ep = makeEpisode(seed, { frames: 2000, dim: 250 });
  const entry = await spool.append(ep.meta.id, encodeBundle(ep));
  process.stdout.write(`${entry.seq} ${entry.id}\n`);
}
