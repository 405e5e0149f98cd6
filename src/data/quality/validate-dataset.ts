/**
 * Quality report of a LeRobot v3.0 dataset on disk: every episode through the checks (./episode-quality.ts),
 * duration outliers across episodes, verdicts, and the data yield with its breakdowns.
 *
 * Labels (robot, vendor, task, phase, operator, instruction, success) come from meta/tg_episodes.jsonl when
 * the dataset has it; a dataset written by LeRobot itself has only its task strings, used as instructions.
 */
import { z } from 'zod';
import { TgError } from '../../errors/index.ts';
import { TG_EPISODES_PATH } from '../lerobot/format.ts';
import { readLeRobotDataset } from '../lerobot/reader.ts';
import { type CheckResult, checkDurationOutliers, type JointLimits, type Verdict } from './checks.ts';
import { checkEpisode, episodeVerdict } from './episode-quality.ts';
import { type QualityThresholds, resolveThresholds } from './thresholds.ts';
import { computeYield, type DataYield, type YieldDimension } from './yield.ts';

export interface ValidateDatasetOptions {
  /** Overrides of the default thresholds (validated; see ./thresholds.ts). */
  thresholds?: unknown;
  /** Limits per observation.state channel; the limit checks run only when given. */
  jointLimits?: JointLimits;
  actionKind?: 'position' | 'torque';
}

export interface EpisodeQualityReport {
  episodeIndex: number;
  /** Training Ground episode id (content hash) when the dataset carries it. */
  id: string | null;
  lengthFrames: number;
  durationSec: number;
  labels: Record<YieldDimension, string | null>;
  verdict: Verdict;
  /** Names of the checks that failed (rejecting the episode) and that warned. */
  failed: string[];
  warned: string[];
  checks: CheckResult[];
}

export interface DatasetQualityReport {
  dir: string;
  fps: number;
  robotType: string | null;
  thresholds: QualityThresholds;
  episodes: EpisodeQualityReport[];
  yield: DataYield;
}

/** The fields of a meta/tg_episodes.jsonl line that quality reads (see ../episode.ts EpisodeMeta). */
const TgEpisodeLabelsSchema = z.looseObject({
  episode_index: z.number().int().nonnegative().optional(),
  id: z.string().optional(),
  robot: z.string().optional(),
  vendor: z.string().optional(),
  task: z.string().optional(),
  phase: z.string().optional(),
  operator: z.string().optional(),
  instruction: z.string().optional(),
  success: z.boolean().nullable().optional(),
});
type TgEpisodeLabels = z.infer<typeof TgEpisodeLabelsSchema>;

function tgLabels(lines: Record<string, unknown>[] | null): Map<number, TgEpisodeLabels> {
  const out = new Map<number, TgEpisodeLabels>();
  (lines ?? []).forEach((line, i) => {
    const parsed = TgEpisodeLabelsSchema.safeParse(line);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new TgError(
        'INPUT_INVALID',
        `${TG_EPISODES_PATH}: line ${i + 1}: ${issue?.path.join('.')}: ${issue?.message}`,
      );
    }
    out.set(parsed.data.episode_index ?? i, parsed.data);
  });
  return out;
}

export async function validateDataset(
  dir: string,
  options: ValidateDatasetOptions = {},
): Promise<DatasetQualityReport> {
  const thresholds = resolveThresholds(options.thresholds);
  const ds = await readLeRobotDataset(dir);
  try {
    const fps = ds.info.fps;
    const labels = tgLabels(ds.tgEpisodes);
    const names: Record<string, readonly string[] | null> = {};
    for (const [name, spec] of Object.entries(ds.info.features)) {
      names[name] = Array.isArray(spec.names) ? spec.names : null;
    }
    const episodes: EpisodeQualityReport[] = [];
    for (const ep of ds.episodes) {
      const frames = await ds.readEpisodeFrames(ep.episodeIndex);
      const tg = labels.get(ep.episodeIndex);
      const checks = checkEpisode(
        {
          fps,
          length: frames.length,
          timestampsSec: frames.timestamp,
          columns: frames.columns,
          names,
          jointLimits: options.jointLimits,
          actionKind: options.actionKind,
          instruction: tg ? tg.instruction : ep.tasks[0],
          success: tg?.success ?? null,
        },
        thresholds,
      );
      episodes.push({
        episodeIndex: ep.episodeIndex,
        id: tg?.id ?? null,
        lengthFrames: frames.length,
        durationSec: frames.length / fps,
        labels: {
          robot: tg?.robot ?? ds.info.robot_type ?? null,
          vendor: tg?.vendor ?? null,
          task: tg?.task ?? null,
          phase: tg?.phase ?? null,
          operator: tg?.operator ?? null,
        },
        verdict: 'pass',
        failed: [],
        warned: [],
        checks,
      });
    }
    const outliers = checkDurationOutliers(
      episodes.map((e) => e.durationSec),
      thresholds.durationOutlier,
    );
    episodes.forEach((e, i) => {
      e.checks.push(outliers[i]!);
      e.verdict = episodeVerdict(e.checks);
      e.failed = e.checks.filter((c) => c.verdict === 'fail').map((c) => c.check);
      e.warned = e.checks.filter((c) => c.verdict === 'warn').map((c) => c.check);
    });
    return {
      dir,
      fps,
      robotType: ds.info.robot_type,
      thresholds,
      episodes,
      yield: computeYield(episodes),
    };
  } finally {
    ds.close();
  }
}
