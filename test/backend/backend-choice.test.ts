import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { AUTO_BACKEND_ORDER, choiceForBackend, setupBackend, type ConcreteBackend } from '@trainhooks/backend';
import { firstAvailableBackend } from '@trainhooks/backend/internal';

const require = createRequire(import.meta.url);
const PACKAGES = {
  'node-gpu': '@tensorflow/tfjs-node-gpu',
  node: '@tensorflow/tfjs-node',
  wasm: '@tensorflow/tfjs-backend-wasm',
  cpu: '@tensorflow/tfjs-backend-cpu',
} as const;
function installed(name: string): boolean {
  try {
    require.resolve(name);
    return true;
  } catch {
    return false;
  }
}

describe('backend choice', () => {
  it("'auto' tries tfjs-node-gpu, tfjs-node, wasm, cpu in that order and takes the first that starts", async () => {
    const tried: ConcreteBackend[] = [];
    const chosen = await firstAvailableBackend('auto', async (choice) => {
      tried.push(choice);
      if (choice !== 'wasm') throw new Error(`${choice} is not here`);
      return choice;
    });
    expect(chosen).toBe('wasm');
    expect(tried).toEqual(['node-gpu', 'node', 'wasm']);
    expect(AUTO_BACKEND_ORDER).toEqual(['node-gpu', 'node', 'wasm', 'cpu']);
  });

  it("setupBackend('auto') runs the first installed one and logs it", async () => {
    const expected = AUTO_BACKEND_ORDER.find((choice) => installed(PACKAGES[choice]));
    const lines: string[] = [];
    const setup = await setupBackend('auto', { threads: 1, log: (line) => lines.push(line) });
    expect(setup.choice).toBe(expected);
    expect(tf.getBackend()).toBe(setup.backend);
    expect(lines.join('\n')).toContain(`backend: ${expected}`);
  });

  it('an explicit choice is honoured', async () => {
    const setup = await setupBackend('cpu', () => {});
    expect(setup).toMatchObject({ choice: 'cpu', backend: 'cpu', threads: 1 });
    expect(tf.getBackend()).toBe('cpu');
  });

  it.skipIf(installed(PACKAGES.node))('a missing optional backend is a clear error naming it, never a crash at import', async () => {
    await expect(setupBackend('node', () => {})).rejects.toThrow(/no tfjs backend could be loaded[\s\S]*node:/);
  });

  it('a worker thread runs what the training thread runs', () => {
    expect(['wasm', 'cpu', 'tensorflow', 'webgl'].map(choiceForBackend)).toEqual(['wasm', 'cpu', 'node', 'auto']);
  });
});
