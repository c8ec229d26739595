// Which tfjs backend to run, and the one loop that tries the candidates in order. setupBackend (the
// public entry) builds on it; nothing else in the project picks a backend.
import * as tf from '@tensorflow/tfjs-core';

export type BackendChoice = 'auto' | 'node-gpu' | 'node' | 'wasm' | 'cpu';
export type ConcreteBackend = Exclude<BackendChoice, 'auto'>;

/** Each candidate: the optional peer package that provides it, and the tfjs backend name it registers. */
const CANDIDATES: Record<ConcreteBackend, { module: string; backend: string }> = {
  'node-gpu': { module: '@tensorflow/tfjs-node-gpu', backend: 'tensorflow' },
  node: { module: '@tensorflow/tfjs-node', backend: 'tensorflow' },
  wasm: { module: '@tensorflow/tfjs-backend-wasm', backend: 'wasm' },
  cpu: { module: '@tensorflow/tfjs-backend-cpu', backend: 'cpu' },
};

/** Preference order of 'auto': the production backends first, pure JS last. */
export const AUTO_BACKEND_ORDER = ['node-gpu', 'node', 'wasm', 'cpu'] as const;

export interface SelectedBackend {
  readonly choice: ConcreteBackend;
  /** tfjs' name for it ('tensorflow' for tfjs-node). */
  readonly backend: string;
}

/**
 * The choice that runs a given tfjs backend again (in a worker thread, for instance): 'wasm' and 'cpu'
 * as they are, tfjs-node's 'tensorflow' as 'node', anything else 'auto'.
 */
export function choiceForBackend(tfjsBackend: string): BackendChoice {
  if (tfjsBackend === 'wasm' || tfjsBackend === 'cpu') return tfjsBackend;
  if (tfjsBackend === 'tensorflow') return 'node';
  return 'auto';
}

/**
 * Tries `start` on each candidate of `preference` ('auto': tfjs-node-gpu › tfjs-node › wasm › cpu) and
 * returns the first that succeeds; throws, naming every failure, when none does.
 */
export async function firstAvailableBackend<T>(preference: BackendChoice, start: (choice: ConcreteBackend) => Promise<T>): Promise<T> {
  const order = preference === 'auto' ? AUTO_BACKEND_ORDER : [preference];
  const failures: string[] = [];
  for (const choice of order) {
    try {
      return await start(choice);
    } catch (error) {
      failures.push(`${choice}: ${(error as Error).message.split('\n')[0]}`);
    }
  }
  throw new Error(`trainhooks: no tfjs backend could be loaded:\n  ${failures.join('\n  ')}`);
}

/** Imports the candidate's peer package and makes it tfjs' backend, as tfjs ships it. */
export async function activateBackend(choice: ConcreteBackend): Promise<SelectedBackend> {
  const candidate = CANDIDATES[choice];
  await import(candidate.module);
  if (!(await tf.setBackend(candidate.backend))) throw new Error('setBackend returned false');
  await tf.ready();
  return { choice, backend: candidate.backend };
}
