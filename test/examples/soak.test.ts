// The short soak: 150 steps of cnn with freeze + act-cache + grad-prune and a checkpoint every 30 —
// tensors flat from checkpoint to checkpoint (the long one is `npm run soak`, BENCHMARKS.md).
import { describe, expect, it } from 'vitest';
import { setupBackend } from '@trainhooks/backend';
import { runSoak } from '../../examples/src/soak/soak.js';

describe('soak (short)', () => {
  it('150 steps, a checkpoint every 30: the tensor count is the same at every checkpoint', async () => {
    await setupBackend('wasm', { threads: 1, log: () => {} });
    const result = await runSoak({ steps: 150, checkpointEvery: 30, samples: 512, batchSize: 32 });
    expect(result.steps).toBe(150);
    expect(result.checkpointMs).toHaveLength(5);
    // Everything a step creates is freed again (the cache holds its rows in JS memory, not as tensors).
    expect(new Set(result.tensorsAtCheckpoints).size, result.tensorsAtCheckpoints.join(' ')).toBe(1);
  }, 300_000);
});
