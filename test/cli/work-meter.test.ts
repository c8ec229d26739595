// The WorkMeter reads each step's decisions (frozen prefix, skip set, forward start) and counts the
// conv/dense work and gradient bytes they saved, unit by unit.
import '@tensorflow/tfjs-backend-cpu';
import * as tf from '@tensorflow/tfjs-core';
import { describe, expect, it } from 'vitest';
import { createTrainer, HookStage, type StepContext } from '@trainhooks/core-hooks';
import { createModel, layerForwardFlops, WorkMeter } from '@trainhooks/cli/internal';

describe('WorkMeter', () => {
  it('counts frozen units, the first trained unit’s input gradient and pruned kernels as skipped', async () => {
    await tf.setBackend('cpu');
    const model = createModel('mlp', { seed: 1 });
    const trainer = createTrainer(model);
    const meter = new WorkMeter(model, () => 0);
    // Unit 0 frozen, unit 2's kernel pruned: what the freeze and grad-prune plugins decide.
    const units = trainer.units;
    const kernelOf = (unit: number) => units[unit]!.variables.find((variable) => variable.shape.length === 2)!;
    trainer.use({
      name: 'decides',
      apply: (t) =>
        t.hooks.beforeForward.tapPromise({ name: 'decides', stage: HookStage.FREEZE }, async (context: StepContext) => {
          context.frozenPrefix = 1;
          context.skip.add(kernelOf(2).name);
        }),
    });
    trainer.use(meter);
    const x = tf.randomUniform([8, 784], 0, 1, 'float32', 3);
    const y = tf.cast(tf.oneHot(tf.tensor1d([0, 1, 2, 3, 4, 5, 6, 7], 'int32'), 10), 'float32');
    await trainer.step({ x, y });

    const flops = model.layers.map((layer) => layerForwardFlops(layer)).filter((f) => f > 0);
    expect(flops).toHaveLength(units.length);
    const batch = 8;
    const forward = flops.reduce((a, b) => a + b, 0) * batch;
    // Every unit but the first needs its input gradient in a full backward pass.
    const backward = flops.reduce((sum, f, i) => sum + f * (i === 0 ? 1 : 2), 0) * batch;
    // Frozen unit 0: its weight gradient; unit 1 (first trained): its input gradient; unit 2: its weight gradient.
    const skipped = (flops[0]! + flops[1]! + flops[2]!) * batch;
    const work = meter.work;
    expect(work.forwardFlops).toBe(forward);
    expect(work.forwardFlopsSkipped).toBe(0);
    expect(work.backwardFlops).toBe(backward);
    expect(work.backwardFlopsSkipped).toBe(skipped);
    const bytes = (unit: number) => units[unit]!.variables.reduce((sum, variable) => sum + 4 * variable.size, 0);
    expect(work.gradientBytes).toBe(units.reduce((sum, _, i) => sum + bytes(i), 0));
    expect(work.gradientBytesNotCommunicated).toBe(bytes(0) + 4 * kernelOf(2).size);
    expect(meter.frozenPrefixChanges).toEqual([{ step: 0, seconds: 0, frozenPrefix: 1 }]);
    tf.dispose([x, y]);
    await trainer.dispose();
  });
});
