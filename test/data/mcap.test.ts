import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { EpisodeLabels } from '../../src/data/episode.ts';
import { LeRobotWriter } from '../../src/data/lerobot/writer.ts';
import { exportDatasetToMcap, exportEpisodeToMcap, openMcapFile } from '../../src/data/mcap/index.ts';
import { Recorder } from '../../src/data/recorder.ts';
import { isTgError } from '../../src/errors/index.ts';

const FPS = 10;
const LENGTHS = [12, 7];
const JOINTS = ['shoulder', 'elbow', 'wrist'];
const vec = (names: string[]) => ({ dtype: 'float32' as const, shape: [names.length] as [number], names });
const FEATURES = {
  'observation.state': vec(JOINTS),
  'observation.velocity': vec(JOINTS),
  action: vec(JOINTS),
  'observation.tactile.left_pad': vec(['t0', 't1', 't2', 't3']),
  'observation.wrench.wrist': vec(['fx', 'fy', 'fz', 'tx', 'ty', 'tz']),
  'observation.depth.head': vec(['p0', 'p1', 'p2', 'p3', 'p4', 'p5']),
};
const DEPTH = { head: { width: 3, height: 2 } };

const labels: EpisodeLabels = {
  robot: 'arm3',
  embodimentHash: 'e',
  vendor: 'tg',
  field: 'lab',
  operator: 'op',
  task: 'reach',
  instruction: 'reach the cube',
  source: 'scripted',
  phase: 'drill',
  success: true,
  seed: 1,
  events: [],
};

async function makeDataset(dir: string): Promise<void> {
  const dims = Object.fromEntries(Object.entries(FEATURES).map(([k, v]) => [k, v.shape[0]]));
  const writer = await LeRobotWriter.create(dir, { fps: FPS, robotType: 'arm3', features: FEATURES });
  for (const [e, length] of LENGTHS.entries()) {
    const rec = new Recorder({ fps: FPS, features: dims });
    for (let f = 0; f < length; f++) {
      const frame: Record<string, Float32Array> = {};
      for (const [k, d] of Object.entries(dims))
        frame[k] = Float32Array.from({ length: d }, (_, i) => e + f * 0.1 + i);
      rec.record(f / FPS, frame);
    }
    await writer.addEpisode(rec.finish(labels));
  }
  await writer.close();
}

describe('MCAP export', () => {
  const root = mkdtempSync(join(tmpdir(), 'tg-mcap-'));
  const ds = join(root, 'ds');
  before(() => makeDataset(ds));
  after(() => rmSync(root, { recursive: true, force: true }));

  test('one episode: indexed, channels, schemas, counts, time range', async () => {
    const out = join(root, 'ep1.mcap');
    const res = await exportEpisodeToMcap(ds, 1, out, { depthImageSize: DEPTH, startTimeNs: 5_000_000_000n });
    assert.deepEqual(res.episodes, [1]);
    assert.equal(res.startTimeNs, 5_000_000_000n);
    assert.equal(res.endTimeNs, 5_000_000_000n + 600_000_000n);
    assert.deepEqual(
      readdirSync(root).filter((f) => f.includes('.tmp-')),
      [],
      'no temporary file left',
    );
    const { reader, close } = await openMcapFile(out);
    try {
      assert.ok(reader.chunkIndexes.length >= 1, 'chunked');
      assert.ok(reader.statistics, 'has statistics');
      const stats = reader.statistics;
      assert.equal(stats.messageCount, BigInt(7 * 6));
      assert.equal(stats.messageStartTime, 5_000_000_000n);
      assert.equal(stats.messageEndTime, 5_600_000_000n);
      for (const chunk of reader.chunkIndexes) {
        assert.ok(chunk.messageIndexOffsets.size > 0, 'chunk has message indexes');
        assert.ok(['', 'zstd'].includes(chunk.compression));
      }
      const byTopic = new Map([...reader.channelsById.values()].map((c) => [c.topic, c]));
      const schemaOf = (topic: string) => reader.schemasById.get(byTopic.get(topic)?.schemaId ?? -1)?.name;
      assert.deepEqual([...byTopic.keys()].sort(), [
        '/action',
        '/depth/head',
        '/joint_states',
        '/tactile/left_pad',
        '/tf',
        '/wrench/wrist',
      ]);
      assert.equal(schemaOf('/joint_states'), 'foxglove.JointStates');
      assert.equal(schemaOf('/tf'), 'foxglove.FrameTransforms');
      assert.equal(schemaOf('/depth/head'), 'foxglove.RawImage');
      assert.equal(schemaOf('/wrench/wrist'), 'tg.Wrench');
      assert.equal(schemaOf('/tactile/left_pad'), 'tg.Tactile');
      for (const s of reader.schemasById.values()) assert.equal(s.encoding, 'jsonschema');
      for (const c of byTopic.values()) {
        assert.equal(c.messageEncoding, 'json');
        assert.equal(stats.channelMessageCounts.get(c.id), 7n);
      }

      const decoder = new TextDecoder();
      const seen = new Map<string, unknown[]>();
      for await (const m of reader.readMessages()) {
        const topic = reader.channelsById.get(m.channelId)?.topic as string;
        seen.set(topic, [...(seen.get(topic) ?? []), JSON.parse(decoder.decode(m.data))]);
      }
      const js = seen.get('/joint_states')?.[2] as {
        timestamp: { sec: number; nsec: number };
        joints: unknown[];
      };
      assert.deepEqual(js.timestamp, { sec: 5, nsec: 200_000_000 });
      const elbow = js.joints[1] as { name: string; position: number; velocity: number };
      assert.equal(elbow.name, 'elbow');
      assert.ok(Math.abs(elbow.position - (1 + 0.2 + 1)) < 1e-5);
      assert.ok(Math.abs(elbow.velocity - (1 + 0.2 + 1)) < 1e-5);
      const tf = seen.get('/tf')?.[0] as {
        transforms: { child_frame_id: string; parent_frame_id: string; rotation: { z: number; w: number } }[];
      };
      assert.deepEqual(
        tf.transforms.map((t) => t.child_frame_id),
        JOINTS,
      );
      assert.equal(tf.transforms[0]?.parent_frame_id, 'base_link');
      // shoulder = 1 rad at frame 0 of episode 1: rotation about z by 1 rad
      assert.ok(Math.abs((tf.transforms[0]?.rotation.z as number) - Math.sin(0.5)) < 1e-6);
      const depth = seen.get('/depth/head')?.[0] as {
        width: number;
        height: number;
        encoding: string;
        data: string;
      };
      assert.equal(depth.encoding, '32FC1');
      assert.equal(depth.width * depth.height, 6);
      const px = new Float32Array(new Uint8Array(Buffer.from(depth.data, 'base64')).buffer);
      assert.deepEqual(Array.from(px), [1, 2, 3, 4, 5, 6]);
      const wrench = seen.get('/wrench/wrist')?.[0] as { force: { x: number }; torque: { z: number } };
      assert.equal(wrench.force.x, 1);
      assert.equal(wrench.torque.z, 6);
      const episodes = [];
      for await (const md of reader.readMetadata({ name: 'episode' })) episodes.push(md.metadata);
      assert.equal(episodes.length, 1);
      assert.equal(episodes[0]?.get('episode_index'), '1');
      assert.equal(episodes[0]?.get('tg.instruction'), 'reach the cube');
    } finally {
      await close();
    }
  });

  test('kinematic description places joint frames as URDF joints', async () => {
    const out = join(root, 'kin.mcap');
    await exportEpisodeToMcap(ds, 0, out, {
      depthImageSize: DEPTH,
      kinematics: {
        shoulder: {
          parent: 'base_link',
          child: 'upper_arm',
          type: 'revolute',
          originXyz: [0, 0, 0.5],
          axis: [0, 1, 0],
        },
        elbow: { parent: 'upper_arm', type: 'prismatic', originXyz: [0.3, 0, 0], axis: [1, 0, 0] },
      },
    });
    const { reader, close } = await openMcapFile(out);
    try {
      for await (const m of reader.readMessages({ topics: ['/tf'] })) {
        const msg = JSON.parse(new TextDecoder().decode(m.data)) as {
          transforms: {
            parent_frame_id: string;
            child_frame_id: string;
            translation: { x: number; z: number };
            rotation: { y: number };
          }[];
        };
        const [s, e, w] = msg.transforms;
        assert.equal(s?.child_frame_id, 'upper_arm');
        assert.equal(s?.translation.z, 0.5);
        assert.ok(Math.abs((s?.rotation.y as number) - Math.sin(0 / 2)) < 1e-9); // shoulder = 0 at frame 0
        assert.equal(e?.parent_frame_id, 'upper_arm');
        assert.ok(Math.abs((e?.translation.x as number) - (0.3 + 1)) < 1e-6); // elbow = 1 m at frame 0
        assert.equal(w?.parent_frame_id, 'base_link'); // not described: flat star
        break;
      }
    } finally {
      await close();
    }
  });

  test('whole dataset: episodes end to end, one metadata record each', async () => {
    const out = join(root, 'all.mcap');
    const res = await exportDatasetToMcap(ds, out, { depthImageSize: DEPTH });
    assert.deepEqual(res.episodes, [0, 1]);
    assert.equal(res.messageCount, (12 + 7) * 6);
    assert.equal(res.topics['/joint_states'], 19);
    // episode 0: 0..1.1 s; episode 1 starts one period later at 1.2 s and ends at 1.8 s
    assert.equal(res.endTimeNs, 1_800_000_000n);
    const { reader, close } = await openMcapFile(out);
    try {
      assert.equal(reader.statistics?.messageCount, BigInt(19 * 6));
      assert.equal(reader.statistics?.metadataCount, 2);
      assert.equal(reader.metadataIndexes.length, 2);
      let prev = -1n;
      for await (const m of reader.readMessages({ topics: ['/joint_states'] })) {
        assert.ok(m.logTime > prev, 'strictly increasing log times');
        prev = m.logTime;
      }
    } finally {
      await close();
    }
  });

  test('small chunks: many chunks, all indexed', async () => {
    const out = join(root, 'small.mcap');
    await exportDatasetToMcap(ds, out, { depthImageSize: DEPTH, chunkSizeBytes: 2048 });
    const { reader, close } = await openMcapFile(out);
    try {
      assert.ok(reader.chunkIndexes.length > 3);
      let n = 0;
      for await (const _ of reader.readMessages()) n++;
      assert.equal(n, 19 * 6);
    } finally {
      await close();
    }
  });

  test('a truncated file fails with INPUT_INVALID naming it', async () => {
    const out = join(root, 'ep0.mcap');
    await exportEpisodeToMcap(ds, 0, out, { depthImageSize: DEPTH });
    const bytes = readFileSync(out);
    for (const keep of [bytes.length - 1, Math.floor(bytes.length / 2), 10]) {
      const cut = join(root, `cut-${keep}.mcap`);
      writeFileSync(cut, bytes.subarray(0, keep));
      await assert.rejects(openMcapFile(cut), (err: unknown) => {
        assert.ok(isTgError(err));
        assert.equal(err.code, 'INPUT_INVALID');
        assert.ok(err.message.startsWith(cut), err.message);
        return true;
      });
    }
  });

  test('bad requests: missing episode, wrong depth size; nothing written', async () => {
    const out = join(root, 'bad.mcap');
    await assert.rejects(exportEpisodeToMcap(ds, 9, out, { depthImageSize: DEPTH }), (err: unknown) => {
      assert.ok(isTgError(err) && err.code === 'NOT_FOUND');
      return true;
    });
    await assert.rejects(
      exportEpisodeToMcap(ds, 0, out, { depthImageSize: { head: { width: 4, height: 2 } } }),
      (err: unknown) => {
        assert.ok(
          isTgError(err) && err.code === 'INPUT_INVALID' && /observation\.depth\.head/.test(err.message),
        );
        return true;
      },
    );
    assert.equal(existsSync(out), false);
    assert.deepEqual(
      readdirSync(root).filter((f) => f.includes('.tmp-')),
      [],
    );
  });
});
