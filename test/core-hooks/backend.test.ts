import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { AUTO_BACKEND_ORDER, selectBackend } from '@trainhooks/core-hooks';

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

describe('selectBackend', () => {
  it("'auto' takes the first importable of tfjs-node-gpu, tfjs-node, wasm, cpu and logs it", async () => {
    const expected = AUTO_BACKEND_ORDER.find((choice) => installed(PACKAGES[choice]));
    const lines: string[] = [];
    const selected = await selectBackend('auto', (line) => lines.push(line));
    expect(selected.choice).toBe(expected);
    expect(tf.getBackend()).toBe(selected.backend);
    expect(lines.join('\n')).toContain(`backend: ${expected}`);
  });

  it('an explicit choice is honoured', async () => {
    const selected = await selectBackend('cpu', () => {});
    expect(selected).toEqual({ choice: 'cpu', backend: 'cpu' });
    expect(tf.getBackend()).toBe('cpu');
  });

  it.skipIf(installed(PACKAGES.node))('a missing optional backend is a clear error, never a crash at import', async () => {
    await expect(selectBackend('node', () => {})).rejects.toThrow(/no tfjs backend could be loaded[\s\S]*node:/);
  });
});
