/**
 * AgiBot World (Beta) on disk, as its dataset card describes it:
 *
 *   task_info/task_<task_id>.json                         list of episodes: episode_id, task_name,
 *                                                         init_scene_text, label_info.action_config[]
 *   proprio_stats/<task_id>/<episode_id>/proprio_stats.h5 HDF5, one episode:
 *     timestamp                                           (N,) capture times, nanoseconds
 *     state/{joint,effector,end,head,waist,robot}/...     N rows each (position, velocity, effort, ...)
 *     action/{joint,effector,end,head,waist,robot}/...    M rows each, plus `index` (M,) when M may differ
 *                                                         from N: the state frame each action row belongs to
 *   observations/<task_id>/<episode_id>/{videos,depth}/   camera streams (not imported here)
 *
 * On the G1: state/joint/position is (N, 14), both arms' 7 joints (left then right), radians;
 * state/effector/position is (N, 2), left then right gripper opening.
 */
import { z } from 'zod';

export const TASK_INFO_DIR = 'task_info';
export const PROPRIO_DIR = 'proprio_stats';
export const PROPRIO_FILE = 'proprio_stats.h5';
/** AgiBot World records at 30 Hz. */
export const AGIBOT_FPS = 30;

export const STATE_JOINT_POSITION = 'state/joint/position';
export const STATE_EFFECTOR_POSITION = 'state/effector/position';
export const ACTION_JOINT = 'action/joint';
export const ACTION_EFFECTOR = 'action/effector';
export const TIMESTAMP = 'timestamp';

export const TASK_INFO_FILE = /^task_(\d+)\.json$/;

export function proprioPath(taskId: number | string, episodeId: number | string): string {
  return `${PROPRIO_DIR}/${taskId}/${episodeId}/${PROPRIO_FILE}`;
}

const ActionSegmentSchema = z
  .object({
    start_frame: z.number().int().nonnegative(),
    end_frame: z.number().int().nonnegative().optional(),
    action_text: z.string().optional().default(''),
    skill: z.string().optional(),
  })
  .passthrough();

export const TaskEpisodeSchema = z
  .object({
    episode_id: z.union([z.number().int(), z.string().regex(/^\d+$/)]).transform(Number),
    task_id: z.union([z.number().int(), z.string()]).optional(),
    task_name: z.string().optional().default(''),
    init_scene_text: z.string().optional().default(''),
    label_info: z
      .object({ action_config: z.array(ActionSegmentSchema).optional().default([]) })
      .passthrough()
      .optional(),
  })
  .passthrough();
export type TaskEpisode = z.infer<typeof TaskEpisodeSchema>;

export const TaskInfoSchema = z.array(TaskEpisodeSchema);

/** G1 names for the canonical vector; other widths get numbered names. */
export function jointNames(n: number): string[] {
  if (n === 14)
    return [
      ...Array.from({ length: 7 }, (_, i) => `left_arm_joint${i + 1}`),
      ...Array.from({ length: 7 }, (_, i) => `right_arm_joint${i + 1}`),
    ];
  return Array.from({ length: n }, (_, i) => `joint${i}`);
}

export function effectorNames(n: number): string[] {
  if (n === 2) return ['left_effector', 'right_effector'];
  return Array.from({ length: n }, (_, i) => `effector${i}`);
}
