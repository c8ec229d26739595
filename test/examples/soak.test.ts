// The short soak: 160 steps of cnn with freeze + act-cache + grad-prune and a checkpoint every 40 —
// tensors flat from checkpoint to checkpoint (the long one is `npm run soak`, BENCHMARKS.md).
import { describe, expect, it } from 'vitest';
import { setupBackend } from '@trainhooks/backend';
import { runSoak } from '../../examples/src/soak/soak.js';

describe('soak (short)', () => {
  it('160 steps, a checkpoint every 40: the tensor count is the same at every checkpoint', async () => {
    await setupBackend('wasm', { threads: 1, log: () => {} });
    // Every 40: the first checkpoint comes after the monitors' snapshot rings have filled (grad-prune's
    // holds 2 monitor points, steps 19 and 39), so what it counts is the steady state.
    const result = await runSoak({ steps: 160, checkpointEvery: 40, samples: 512, batchSize: 32 });
    expect(result.steps).toBe(160);
    expect(result.checkpointMs).toHaveLength(4);
    // Everything a step creates is freed again (the cache holds its rows in JS memory, not as tensors).
    expect(new Set(result.tensorsAtCheckpoints).size, result.tensorsAtCheckpoints.join(' ')).toBe(1);
  }, 300_000);
});
