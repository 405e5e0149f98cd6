import path from 'node:path';
import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import type { CanonicalMap } from '../../embodiment/canonical-map.ts';
import { inferCanonicalMap } from '../../embodiment/canonical-map.ts';
import { EmbodimentRegistry, importRobot } from '../../embodiment/import/index.ts';
import {
  type Embodiment,
  type EmbodimentName,
  embodimentHash,
  loadEmbodiment,
  readMjcf,
} from '../../embodiment/index.ts';
import { isTgError, TgError } from '../../errors/index.ts';
import { loadMujoco } from '../../sim/mujoco.ts';
import { type CommandContext, commandContext } from '../context.ts';
import { formatTable, printResult } from '../output.ts';

/** The project's own robots, listed when `loadEmbodiment` knows them. */
const BUILT_IN = ['arm7', 'humanoid', 'service'];

interface RobotRow {
  id: string;
  name: string;
  source: 'built-in' | 'mjcf' | 'urdf';
  joints: number;
  actuators: number;
  sensors: number;
}

function registry(ctx: CommandContext): EmbodimentRegistry {
  return new EmbodimentRegistry(path.join(ctx.config.home, 'embodiments'));
}

function builtIns(): Embodiment[] {
  const out: Embodiment[] = [];
  for (const name of BUILT_IN) {
    try {
      out.push(loadEmbodiment(name as EmbodimentName));
    } catch (err) {
      if (!isTgError(err) || err.code !== 'NOT_FOUND') throw err;
    }
  }
  return out;
}

async function builtInMap(e: Embodiment): Promise<CanonicalMap> {
  const mj = await loadMujoco();
  let model: ReturnType<typeof mj.MjModel.from_xml_string>;
  try {
    model = mj.MjModel.from_xml_string(readMjcf(e));
  } catch (err) {
    throw new TgError('MODEL_INVALID', `built-in robot ${e.name}: ${(err as Error).message}`, { cause: err });
  }
  try {
    return inferCanonicalMap(mj, model);
  } finally {
    model.delete();
  }
}

const KINDS = ['position', 'velocity', 'torque'] as const;
function kindArg(text: string): (typeof KINDS)[number] {
  if (!(KINDS as readonly string[]).includes(text))
    throw new InvalidArgumentError(`expected one of ${KINDS.join(', ')}`);
  return text as (typeof KINDS)[number];
}

const range = (r: [number, number] | null) => (r === null ? '-' : `${fmt(r[0])}..${fmt(r[1])}`);
const fmt = (x: number | null) => (x === null ? '-' : String(Number(x.toPrecision(6))));

function renderMap(map: CanonicalMap): string {
  const joints = formatTable(
    ['joint', 'kind', 'qpos', 'dof', 'range', 'max vel', 'max torque'],
    map.joints.map((j) => [
      j.name,
      j.kind,
      j.qposAdr,
      j.dofAdr,
      range(j.range),
      fmt(j.maxVelocity),
      fmt(j.maxTorque),
    ]),
  );
  const actuators = formatTable(
    ['actuator', 'kind', 'target', 'ctrlrange', 'forcerange', 'gear'],
    map.actuators.map((a) => [
      a.name,
      a.kind,
      a.target ?? '-',
      range(a.ctrlRange),
      range(a.forceRange),
      fmt(a.gear),
    ]),
  );
  const sensors =
    map.sensors.length === 0
      ? '(no sensors)'
      : formatTable(
          ['sensor', 'type', 'dim', 'attached to'],
          map.sensors.map((s) => [
            s.name,
            s.type,
            s.dim,
            s.attachedTo ? `${s.attachedTo.type} ${s.attachedTo.name ?? '?'}` : '-',
          ]),
        );
  return [joints, '', actuators, '', sensors].join('\n');
}

export function registerRobotsCommand(program: Command): void {
  const robots = program
    .command('robots')
    .description('import, list and inspect robot descriptions (MJCF, URDF)');

  robots
    .command('import')
    .description('import an MJCF or URDF robot (file or folder) with its meshes into the registry')
    .argument('<path>', 'model file, or a folder holding one')
    .option(
      '--actuators <kind>',
      'URDF without <transmission>: add one actuator per joint (position|velocity|torque)',
      kindArg,
    )
    .action(async (input: string, opts: { actuators?: (typeof KINDS)[number] }, cmd: Command) => {
      const ctx = commandContext(cmd);
      const robot = await importRobot(input, opts.actuators ? { urdfActuators: opts.actuators } : {});
      const stored = registry(ctx).register(robot);
      const { canonicalMap, ...rest } = stored;
      printResult(ctx, stored, () =>
        [
          `imported ${rest.name} (${rest.format}) as ${rest.id}`,
          `  ${canonicalMap.joints.length} joints, ${canonicalMap.actuators.length} actuators, ` +
            `${canonicalMap.sensors.length} sensors, ${rest.files.length} files in ${rest.dir}`,
          ...rest.warnings.map((w) => `warning: ${w}`),
        ].join('\n'),
      );
    });

  robots
    .command('list')
    .description('list built-in and imported robots')
    .action(async (_opts, cmd: Command) => {
      const ctx = commandContext(cmd);
      const rows: RobotRow[] = [];
      for (const e of builtIns()) {
        const map = await builtInMap(e);
        rows.push({
          id: embodimentHash(e),
          name: e.name,
          source: 'built-in',
          joints: map.joints.length,
          actuators: map.actuators.length,
          sensors: map.sensors.length,
        });
      }
      for (const r of registry(ctx).list()) {
        rows.push({
          id: r.id,
          name: r.name,
          source: r.format,
          joints: r.canonicalMap.joints.length,
          actuators: r.canonicalMap.actuators.length,
          sensors: r.canonicalMap.sensors.length,
        });
      }
      printResult(ctx, rows, () =>
        formatTable(
          ['id', 'name', 'source', 'joints', 'actuators', 'sensors'],
          rows.map((r) => [r.id.slice(0, 12), r.name, r.source, r.joints, r.actuators, r.sensors]),
        ),
      );
    });

  robots
    .command('show')
    .description('show a robot: canonical joints, actuators and sensors')
    .argument('<id>', 'built-in name, or an imported id or unique id prefix')
    .action(async (id: string, _opts, cmd: Command) => {
      const ctx = commandContext(cmd);
      const builtIn = builtIns().find((e) => e.name === id);
      if (builtIn) {
        const map = await builtInMap(builtIn);
        const out = {
          id: embodimentHash(builtIn),
          name: builtIn.name,
          source: 'built-in',
          canonicalMap: map,
        };
        printResult(ctx, out, () => [`# ${out.name} (built-in) ${out.id}`, renderMap(map)].join('\n'));
        return;
      }
      const r = registry(ctx).get(id);
      printResult(ctx, r, () =>
        [
          `# ${r.name} (${r.format}) ${r.id}`,
          `# ${r.mainPath}`,
          ...r.warnings.map((w) => `# warning: ${w}`),
          renderMap(r.canonicalMap),
        ].join('\n'),
      );
    });
}
