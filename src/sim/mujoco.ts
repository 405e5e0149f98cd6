/**
 * The MuJoCo WASM module, loaded once per thread. Every world in a thread shares the one instance: each
 * instance owns its own WASM heap, so two instances would double memory for nothing.
 */
import load from '@mujoco/mujoco';

export type { DoubleBuffer, MjData, MjModel, MjVFS } from '@mujoco/mujoco';
export type Mujoco = Awaited<ReturnType<typeof load>>;

let instance: Promise<Mujoco> | undefined;

/** The thread's MuJoCo module (loaded on first call, then cached; a failed load is retried next call). */
export function loadMujoco(): Promise<Mujoco> {
  if (instance === undefined) {
    instance = load();
    instance.catch(() => {
      instance = undefined;
    });
  }
  return instance;
}
