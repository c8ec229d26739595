// Pipelined training against plain training on the same batches: the same weights (both schedules,
// sgd and adam, mlp and cnn), a frozen prefix that moves mid-run, failures, leaks.
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import type * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { setupBackend } from '@trainhooks/backend';
import { createTrainer, type Trainer } from '@trainhooks/core-hooks';
import { createModel, MODEL_INPUT_LAYOUT, type ModelName } from '@trainhooks/cli/internal';
import { pipelinePlugin, type PipelineOptions, type PipelinePlan } from '@trainhooks/plugin-pipeline';

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

beforeAll(async () => {
  await setupBackend('wasm', { threads: 1, log: () => {} });
});

function batches(model: ModelName, batchSize: number, count: number) {
  return Array.from({ length: count }, (_, i) => {
    const shape = MODEL_INPUT_LAYOUT[model] === 'flat' ? [batchSize, 784] : [batchSize, 28, 28, 1];
    return {
      x: tf.randomUniform(shape, 0, 1, 'float32', 10 + i),
      y: tf.cast(tf.oneHot(tf.randomUniform([batchSize], 0, 10, 'int32', 20 + i), 10), 'float32'),
    };
  });
}

function maxWeightDiff(a: tfl.LayersModel, b: tfl.LayersModel): number {
  const other = b.getWeights();
  return Math.max(...a.getWeights().map((w, i) => tf.tidy(() => tf.max(tf.abs(tf.sub(w, other[i]!))).dataSync()[0]!)));
}

const OPTIMIZERS = {
  sgd: () => tf.train.sgd(0.05),
  // A larger epsilon than tfjs' 1e-7: Adam divides by √v, so a gradient element that is ~0 up to float
  // rounding (summed in another order over micro-batches) becomes a ±lr step, and such steps compound
  // (measured: cnn drifts to 1e-3 in 20 steps at ε = 1e-4, stays at 1e-8 at ε = 1e-3; sgd stays at 1e-8).
  adam: () => tf.train.adam(0.001, 0.9, 0.999, 1e-3),
};

async function pair(model: ModelName, optimizer: keyof typeof OPTIMIZERS, options: Partial<PipelineOptions>) {
  const plainModel = createModel(model, { seed: 3, dropout: false });
  const pipedModel = createModel(model, { seed: 3, dropout: false });
  const plain = createTrainer(plainModel, { optimizer: OPTIMIZERS[optimizer](), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  // These tests are about the pipeline itself: it runs however (not) fast it is on these small models.
  const plugin = pipelinePlugin({ stages: 2, fallback: 'never', ...options });
  const piped = createTrainer(pipedModel, { optimizer: OPTIMIZERS[optimizer](), loss: 'categoricalCrossentropy', metrics: ['accuracy'] }).use(plugin);
  return { plainModel, pipedModel, plain, piped, plugin };
}

// cnn in every combination; mlp (1.7 M weights, ~10 s a case) in two that cover both optimizers and both schedules.
const EQUIVALENCE_CASES = [
  ['mlp', 'sgd', 'gpipe'],
  ['mlp', 'adam', '1f1b'],
  ['cnn', 'sgd', 'gpipe'],
  ['cnn', 'sgd', '1f1b'],
  ['cnn', 'adam', 'gpipe'],
  ['cnn', 'adam', '1f1b'],
] as const;

describe('pipelined training equals plain training on the same batches', () => {
  it.each(EQUIVALENCE_CASES)('%s, %s, %s: 20 steps, weights within 1e-4, logs alike', async (model, optimizer, schedule) => {
    const data = batches(model, model === 'cnn' ? 16 : 32, 4);
    const { plainModel, pipedModel, plain, piped, plugin } = await pair(model, optimizer, { schedule, microBatches: 4 });
    for (let step = 0; step < 20; step++) {
      const batch = data[step % data.length]!;
      const expected = await plain.step(batch);
      const actual = await piped.step(batch);
      expect(actual.loss).toBeCloseTo(expected.loss!, 4);
      expect(actual.acc).toBeCloseTo(expected.acc!, 5);
    }
    expect(maxWeightDiff(plainModel, pipedModel)).toBeLessThan(1e-4);
    expect(plugin.plan()!.stages).toHaveLength(2);
    await Promise.all([plain.dispose(), piped.dispose()]);
    expect(plugin.runningThreads()).toBe(0);
    tf.dispose(data.flatMap((b) => [b.x, b.y]));
  });
});

describe('dense weight gradients once per batch (B/W split)', () => {
  it('gives the same weights as computing them per micro-batch and as plain training (mlp, adam, 1f1b)', async () => {
    const data = batches('mlp', 32, 4);
    const split = await pair('mlp', 'adam', { schedule: '1f1b', microBatches: 4 });
    const perMicroBatch = await pair('mlp', 'adam', { schedule: '1f1b', microBatches: 4, deferWeightGradients: false });
    for (let step = 0; step < 10; step++) {
      const batch = data[step % data.length]!;
      await split.plain.step(batch);
      await split.piped.step(batch);
      await perMicroBatch.piped.step(batch);
    }
    // mlp's hidden Dense layers (relu) are plain matMuls on the tape: one product per layer and micro-batch is put off.
    const hiddenDense = split.pipedModel.layers.filter((layer) => layer.getClassName() === 'Dense' && layer !== split.pipedModel.layers.at(-1)).length;
    expect(split.plugin.lastStep()!.deferredProducts.reduce((a, b) => a + b, 0)).toBe(hiddenDense * 4);
    expect(perMicroBatch.plugin.lastStep()!.deferredProducts).toEqual([0, 0]);
    expect(maxWeightDiff(split.plainModel, split.pipedModel)).toBeLessThan(1e-4);
    expect(maxWeightDiff(perMicroBatch.pipedModel, split.pipedModel)).toBeLessThan(1e-4);
    await Promise.all([split.plain.dispose(), split.piped.dispose(), perMicroBatch.plain.dispose(), perMicroBatch.piped.dispose()]);
    tf.dispose(data.flatMap((b) => [b.x, b.y]));
  });
});

describe('freeze-aware re-partitioning', () => {
  it('a frozen prefix that moves mid-run re-partitions the active units and keeps equivalence', async () => {
    const data = batches('mlp', 32, 4);
    const { plainModel, pipedModel, plain, piped, plugin } = await pair('mlp', 'adam', { schedule: '1f1b', microBatches: 4 });
    const plans: Array<{ step: number; plan: PipelinePlan }> = [];
    expect(plugin.explain()).toMatch(/none yet/);
    piped.events.on('pipelinePlan', (event) => plans.push(event));
    let frozenWeights: tf.Tensor[] = [];
    for (let step = 0; step < 20; step++) {
      if (step === 10) {
        plain.frozenPrefix = 4;
        piped.frozenPrefix = 4;
        frozenWeights = pipedModel.getWeights().slice(0, 8).map((w) => w.clone());
      }
      const batch = data[step % data.length]!;
      await plain.step(batch);
      await piped.step(batch);
    }
    expect(plans.map((event) => [event.step, event.plan.frozenPrefix])).toEqual([[0, 0], [10, 4]]);
    const [before, after] = [plans[0]!.plan, plans[1]!.plan];
    // The cut moved: with four units frozen (forward only), the first stage takes more units.
    expect(after.stages[0]!.to).toBeGreaterThan(before.stages[0]!.to);
    expect(after.stages.every((stage) => stage.to > stage.from)).toBe(true);
    expect(maxWeightDiff(plainModel, pipedModel)).toBeLessThan(1e-4);
    expect(plugin.report().plans).toEqual(plans);
    expect(plugin.report().steps).toHaveLength(20);
    pipedModel.getWeights().slice(0, 8).forEach((w, i) => expect(tf.tidy(() => tf.max(tf.abs(tf.sub(w, frozenWeights[i]!))).dataSync()[0])).toBe(0));
    await Promise.all([plain.dispose(), piped.dispose()]);
    tf.dispose([...frozenWeights, ...data.flatMap((b) => [b.x, b.y])]);
  });

  it('one trained unit: the frozen units still run forward on the first stage; a skipped variable keeps its weights', async () => {
    const data = batches('mlp', 16, 2);
    const { plainModel, pipedModel, plain, piped, plugin } = await pair('mlp', 'sgd', { stages: 2 });
    const units = piped.units.length;
    plain.frozenPrefix = units - 1;
    piped.frozenPrefix = units - 1;
    const skipped = piped.units.at(-1)!.variables[1]!;
    const skippedBefore = skipped.clone();
    piped.hooks.beforeForward.tap('skip-bias', (context) => void context.skip.add(skipped.name));
    plain.hooks.beforeForward.tap('skip-bias', (context) => void context.skip.add(plain.units.at(-1)!.variables[1]!.name));
    for (let step = 0; step < 4; step++) {
      await plain.step(data[step % 2]!);
      await piped.step(data[step % 2]!);
    }
    // The frozen units still run forward: two stages, the second holding the one trained unit.
    expect(plugin.plan()!.stages.at(-1)!.to).toBe(units);
    expect(maxWeightDiff(plainModel, pipedModel)).toBeLessThan(1e-5);
    expect(tf.tidy(() => tf.max(tf.abs(tf.sub(skipped, skippedBefore))).dataSync()[0])).toBe(0);
    await Promise.all([plain.dispose(), piped.dispose()]);
    tf.dispose([skippedBefore, ...data.flatMap((b) => [b.x, b.y])]);
  });
});

describe('failures end in an error, never a hang', () => {
  async function trainUntilFailure(trainer: Trainer, data: ReturnType<typeof batches>) {
    for (let step = 0; step < 6; step++) await trainer.step(data[0]!);
  }

  it('a stage thread that exits fails the step with the stage named; dispose ends the rest', async () => {
    const data = batches('mlp', 16, 1);
    const plugin = pipelinePlugin({ stages: 2, fallback: 'never', workerSetup: fixture('exit-on-third-step.mjs') });
    const trainer = createTrainer(createModel('mlp', { seed: 1, dropout: false }), { optimizer: tf.train.sgd(0.1), loss: 'categoricalCrossentropy' }).use(plugin);
    await expect(trainUntilFailure(trainer, data)).rejects.toThrow(/plugin-pipeline: stage 1 exited \(code 7\)/);
    await trainer.dispose();
    expect(plugin.runningThreads()).toBe(0);
    tf.dispose([data[0]!.x, data[0]!.y]);
  });

  it('a stage that stops answering fails the step after stepTimeoutMs', async () => {
    const data = batches('mlp', 16, 1);
    const plugin = pipelinePlugin({ stages: 2, fallback: 'never', stepTimeoutMs: 3000, workerSetup: fixture('hang-on-third-step.mjs') });
    const trainer = createTrainer(createModel('mlp', { seed: 1, dropout: false }), { optimizer: tf.train.sgd(0.1), loss: 'categoricalCrossentropy' }).use(plugin);
    const began = Date.now();
    await expect(trainUntilFailure(trainer, data)).rejects.toThrow(/no answer within 3000 ms \(stage\(s\) 0, 1 did not finish/);
    expect(Date.now() - began).toBeLessThan(30_000);
    await trainer.dispose();
    expect(plugin.runningThreads()).toBe(0);
    tf.dispose([data[0]!.x, data[0]!.y]);
  });

  it('bad options and unsupported models are refused up front', () => {
    const trainer = () => createTrainer(createModel('mlp', { seed: 1 }));
    expect(() => trainer().use(pipelinePlugin({ stages: 0 }))).toThrow(/option stages must be an integer ≥ 1/);
    expect(() => trainer().use(pipelinePlugin({ stages: 99 }))).toThrow(/option stages must be at most the model's \d+ units, got 99/);
    const variable = tf.variable(tf.ones([784, 10]));
    const unitModel = { units: [{ name: 'dense', variables: [variable], apply: (x: tf.Tensor) => tf.matMul(x, variable) }] };
    expect(() => createTrainer(unitModel, { optimizer: tf.train.sgd(0.1), loss: 'meanSquaredError' }).use(pipelinePlugin({ stages: 1 }))).toThrow(/a \{ units \} model has no architecture/);
    variable.dispose();
  });
});

describe('no leaks', () => {
  // A leak of even one tensor per step shows as 99 more tensors after 100 steps: more steps only cost time.
  it('100 steps: tensors in the training thread and in every stage stay flat', async () => {
    const data = batches('mlp', 8, 2);
    const plugin = pipelinePlugin({ stages: 2, microBatches: 2, fallback: 'never' });
    const trainer = createTrainer(createModel('mlp', { seed: 2, dropout: false }), { optimizer: tf.train.adam(0.001), loss: 'categoricalCrossentropy' }).use(plugin);
    await trainer.step(data[0]!);
    const mainBefore = tf.memory().numTensors;
    const stagesBefore = plugin.lastStep()!.tensorsAlive;
    for (let step = 1; step < 100; step++) await trainer.step(data[step % 2]!);
    expect(tf.memory().numTensors).toBe(mainBefore);
    expect(plugin.lastStep()!.tensorsAlive).toEqual(stagesBefore);
    await trainer.dispose();
    tf.dispose(data.flatMap((b) => [b.x, b.y]));
  });
});

describe('composes with the step context', () => {
  it('a forward that starts at the frozen prefix (a cache) and the frozen output it reports match plain training', async () => {
    const data = batches('mlp', 16, 2);
    const { plainModel, pipedModel, plain, piped } = await pair('mlp', 'sgd', { microBatches: 4 });
    const frozen = 3;
    // What a cache does: the first pass reports the frozen prefix's output, later passes start from it.
    const installCache = (trainer: Trainer, seen: Map<number, tf.Tensor>) => {
      trainer.hooks.beforeForward.tap('test-cache', (context) => {
        const cached = seen.get(context.step % 2);
        if (cached) context.forwardStart = { unit: frozen, input: cached };
      });
      trainer.hooks.afterBackward.tap('test-cache', (context) => {
        if (context.frozenOutput && !seen.has(context.step % 2)) seen.set(context.step % 2, tf.keep(context.frozenOutput.clone()));
      });
    };
    const plainCache = new Map<number, tf.Tensor>();
    const pipedCache = new Map<number, tf.Tensor>();
    installCache(plain, plainCache);
    installCache(piped, pipedCache);
    plain.frozenPrefix = frozen;
    piped.frozenPrefix = frozen;
    const starts: number[] = [];
    piped.hooks.afterForward.tap('watch', (context) => void starts.push(context.forwardStart.unit));
    for (let step = 0; step < 6; step++) {
      await plain.step(data[step % 2]!);
      await piped.step(data[step % 2]!);
    }
    expect(starts).toEqual([0, 0, frozen, frozen, frozen, frozen]);
    for (const key of [0, 1]) expect(tf.tidy(() => tf.max(tf.abs(tf.sub(plainCache.get(key)!, pipedCache.get(key)!))).dataSync()[0])).toBeLessThan(1e-6);
    expect(maxWeightDiff(plainModel, pipedModel)).toBeLessThan(1e-5);
    await Promise.all([plain.dispose(), piped.dispose()]);
    tf.dispose([...plainCache.values(), ...pipedCache.values(), ...data.flatMap((b) => [b.x, b.y])]);
  });

  it('BatchNorm statistics computed in the stages come back to trainer.model (resnet)', async () => {
    const data = batches('resnet', 8, 1);
    const model = createModel('resnet', { seed: 4 });
    const movingMean = model.weights.find((weight) => weight.name.includes('moving_mean'))!;
    const before = movingMean.read().clone();
    const plugin = pipelinePlugin({ stages: 2, microBatches: 2, fallback: 'never' });
    const trainer = createTrainer(model).use(plugin);
    const logs = await trainer.step(data[0]!);
    expect(Number.isFinite(logs.loss)).toBe(true);
    expect(tf.tidy(() => tf.max(tf.abs(tf.sub(movingMean.read(), before))).dataSync()[0])).toBeGreaterThan(0);
    await trainer.dispose();
    tf.dispose([before, data[0]!.x, data[0]!.y]);
  });
});
