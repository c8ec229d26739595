import * as tf from '@tensorflow/tfjs-core';

export type BackendChoice = 'auto' | 'node-gpu' | 'node' | 'wasm' | 'cpu';

/** Each candidate: the optional peer package that provides it, and the tfjs backend name it registers. */
const CANDIDATES: Record<Exclude<BackendChoice, 'auto'>, { module: string; backend: string }> = {
  'node-gpu': { module: '@tensorflow/tfjs-node-gpu', backend: 'tensorflow' },
  node: { module: '@tensorflow/tfjs-node', backend: 'tensorflow' },
  wasm: { module: '@tensorflow/tfjs-backend-wasm', backend: 'wasm' },
  cpu: { module: '@tensorflow/tfjs-backend-cpu', backend: 'cpu' },
};

/** Preference order of 'auto': the production backends first, pure JS last. */
export const AUTO_BACKEND_ORDER = ['node-gpu', 'node', 'wasm', 'cpu'] as const;

export interface SelectedBackend {
  readonly choice: Exclude<BackendChoice, 'auto'>;
  readonly backend: string;
}

/**
 * Imports the first importable backend package (all optional peers) and makes it tfjs' backend.
 * Logs which one runs. Throws only when nothing at all can be imported.
 */
export async function selectBackend(
  preference: BackendChoice = 'auto',
  log: (message: string) => void = (message) => console.log(message),
): Promise<SelectedBackend> {
  const order = preference === 'auto' ? AUTO_BACKEND_ORDER : [preference];
  const failures: string[] = [];
  for (const choice of order) {
    const candidate = CANDIDATES[choice];
    try {
      await import(candidate.module);
      if (!(await tf.setBackend(candidate.backend))) throw new Error('setBackend returned false');
      await tf.ready();
      log(`[trainhooks] backend: ${choice} (${tf.getBackend()})`);
      return { choice, backend: candidate.backend };
    } catch (error) {
      failures.push(`${choice}: ${(error as Error).message.split('\n')[0]}`);
    }
  }
  throw new Error(`trainhooks: no tfjs backend could be loaded:\n  ${failures.join('\n  ')}`);
}
