import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkOptionNames, createTrainer, LocalStrategy, optionError, type Unit } from '@trainhooks/core-hooks';
import { denseModel, toyData, useCpu } from './helpers.js';

beforeAll(useCpu);

function compiled(seed = 1) {
  const model = denseModel(seed);
  model.compile({ optimizer: tf.train.sgd(0.1), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
  return model;
}

describe('fit refuses bad arguments with a message naming argument, value and what is allowed', () => {
  const { x, y } = toyData(10, 8, 3);
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ['batchSize 0 (used to loop forever)', { batchSize: 0 }, /batchSize must be a positive integer, got 0/],
    ['batchSize 2.5', { batchSize: 2.5 }, /batchSize must be a positive integer, got 2.5/],
    ['epochs NaN', { epochs: NaN }, /epochs must be a positive integer, got NaN/],
    ['epochs -1', { epochs: -1 }, /epochs must be a positive integer, got -1/],
    ['initialEpoch -1', { initialEpoch: -1 }, /initialEpoch must be an integer ≥ 0, got -1/],
    ['validationSplit 1.5', { validationSplit: 1.5 }, /validationSplit must be a number in \[0, 1\), got 1.5/],
    ['validationSplit -0.1', { validationSplit: -0.1 }, /validationSplit must be a number in \[0, 1\)/],
    ['validationSplit leaving no validation sample', { validationSplit: 1e-17 }, /validationSplit must be a fraction that leaves samples on both sides of 10/],
    ['validationSplit leaving no training sample', { validationSplit: 0.95 }, /validationSplit must be a fraction that leaves samples on both sides of 10/],
    ['shuffle "yes"', { shuffle: 'yes' }, /shuffle must be true or false, got 'yes'/],
    ['verbose 2', { verbose: 2 }, /verbose must be 0 or 1, got 2/],
    ['a callback method that is no function', { callbacks: { onEpochEnd: 3 } }, /callbacks.onEpochEnd must be a function, got 3/],
    ['validationData with sample weights', { validationData: [x, y, y] }, /validationData must be \[x, y\]/],
    ['sampleIds of the wrong length', { sampleIds: new Int32Array(3) }, /sampleIds must be an Int32Array with one id per row of x \(10\)/],
    ['a misspelled option', { epoch: 3 }, /fit options.epoch must be one of the known options/],
    ['classWeight', { classWeight: { 0: 1 } }, /classWeight is not supported: class weights are not implemented/],
  ];
  for (const [name, options, message] of cases) {
    it(name, async () => {
      await expect(createTrainer(compiled()).fit(x, y, options as never)).rejects.toThrow(message);
    });
  }

  it('x and y with different sample counts (used to fail deep inside GatherV2)', async () => {
    const short = tf.slice(y, 0, 7);
    await expect(createTrainer(compiled()).fit(x, short)).rejects.toThrow(/x and y must have the same number of samples, got 10 and 7/);
    short.dispose();
  });

  it('x or y of the wrong shape for the model, or not a tensor', async () => {
    const wide = tf.zeros([10, 4]);
    const trainer = createTrainer(compiled());
    await expect(trainer.fit(wide, y)).rejects.toThrow(/x.shape must be \[samples, 8\] \(the model's shape\), got \[10, 4\]/);
    await expect(trainer.fit(x, wide)).rejects.toThrow(/y.shape must be \[samples, 3\]/);
    await expect(trainer.fit([x] as never, y)).rejects.toThrow(/x must be one tf.Tensor/);
    wide.dispose();
  });

  it('evaluate: batchSize 0 (used to loop forever), sample counts, options', async () => {
    const trainer = createTrainer(compiled());
    await expect(trainer.evaluate(x, y, { batchSize: 0 })).rejects.toThrow(/batchSize must be a positive integer, got 0/);
    const short = tf.slice(y, 0, 7);
    await expect(trainer.evaluate(x, short)).rejects.toThrow(/same number of samples/);
    await expect(trainer.evaluate(x, y, { steps: 2 } as never)).rejects.toThrow(/steps is not supported/);
    short.dispose();
  });

  it('step: batch ids must be one Int32Array id per sample', async () => {
    const trainer = createTrainer(compiled());
    await expect(trainer.step({ x, y, ids: new Int32Array(2) })).rejects.toThrow(/batch.ids must be an Int32Array with one id per sample \(10\)/);
    await expect(trainer.step(null as never)).rejects.toThrow(/step\(\) takes a batch/);
  });

  it('fitDataset: epochs, batchesPerEpoch, validationSplit, the dataset itself', async () => {
    const trainer = createTrainer(compiled());
    const dataset = { iterator: async () => ({ next: async () => ({ done: true as const, value: undefined }) }) };
    await expect(trainer.fitDataset(dataset, {} as never)).rejects.toThrow(/epochs must be a positive integer, got undefined/);
    await expect(trainer.fitDataset(dataset, { epochs: 1, batchesPerEpoch: 0 })).rejects.toThrow(/batchesPerEpoch must be a positive integer, got 0/);
    await expect(trainer.fitDataset(dataset, { epochs: 1, validationSplit: 0.2 } as never)).rejects.toThrow(/validationSplit is not supported by fitDataset/);
    await expect(trainer.fitDataset(dataset, { epochs: 1, validationBatchSize: -2 })).rejects.toThrow(/validationBatchSize must be a positive integer/);
    await expect(trainer.fitDataset({} as never, { epochs: 1 })).rejects.toThrow(/dataset must be a tf.data.Dataset/);
  });

  it('two fits at once are refused, on the trainer and against model.fit of the same model', async () => {
    const model = compiled();
    const trainer = createTrainer(model);
    const first = trainer.fit(x, y, { epochs: 3, batchSize: 2 });
    await expect(trainer.fit(x, y)).rejects.toThrow(/another fit\(\) or fitDataset\(\) of this trainer is ongoing/);
    await expect(model.fit(x, y)).rejects.toThrow(/another fit\(\) call is ongoing/);
    await first;
    const modelFirst = model.fit(x, y, { epochs: 2, batchSize: 2 });
    await expect(trainer.fit(x, y)).rejects.toThrow(/model.fit\(\) or fitDataset\(\) of this model is ongoing/);
    await modelFirst;
    // Both free again once they are done.
    await trainer.fit(x, y, { epochs: 1 });
  });
});

describe('createTrainer refuses bad options and models it cannot train exactly', () => {
  it('options: optimizer, loss, metrics, strategy, unknown keys', () => {
    const model = compiled();
    expect(() => createTrainer(model, { optimizer: 'adam' as never })).toThrow(/options.optimizer must be a tf.Optimizer instance/);
    expect(() => createTrainer(model, { loss: 42 as never })).toThrow(/options.loss must be a loss name or a \(yTrue, yPred\)/);
    expect(() => createTrainer(model, { loss: 'hinge' as never })).toThrow(/unknown loss "hinge"; use a function or one of: categoricalCrossentropy/);
    expect(() => createTrainer(model, { metrics: 'accuracy' as never })).toThrow(/options.metrics must be an array/);
    expect(() => createTrainer(model, { metrics: ['precisionAtK'] })).toThrow(/unknown metric "precisionAtK"/);
    expect(() => createTrainer(model, { strategy: {} as never })).toThrow(/options.strategy must be a StepStrategy/);
    expect(() => createTrainer(model, { optimiser: tf.train.sgd(1) } as never)).toThrow(/trainer options.optimiser must be one of optimizer, loss/);
    expect(() => createTrainer(model, null as never)).toThrow(/trainer options must be an object/);
    expect(() => createTrainer(null as never)).toThrow(/needs a tfjs LayersModel or a \{ units \} model/);
    expect(() => createTrainer(denseModel(2))).toThrow(/pass options.loss, or compile the model first/);
    expect(() => createTrainer(denseModel(2), { loss: 'meanSquaredError' })).toThrow(/pass options.optimizer, or compile the model first/);
    expect(createTrainer(model, { strategy: new LocalStrategy() }).strategy.name).toBe('local');
  });

  it('options.units: empty, malformed, sharing a variable, leaving a weight out', () => {
    const model = compiled();
    const units = createTrainer(model).units;
    expect(() => createTrainer(model, { units: [] })).toThrow(/units must be a non-empty array/);
    expect(() => createTrainer(model, { units: [{}] as never })).toThrow(/units\[0\] must have a name, a variables array and an apply/);
    const shared: Unit = { ...units[1]!, name: 'again', apply: units[1]!.apply.bind(units[1]), variables: units[1]!.variables };
    expect(() => createTrainer(model, { units: [...units, shared] })).toThrow(/belongs to units '.*' and 'again'; a variable shared across units/);
    expect(() => createTrainer(model, { units: units.slice(1) })).toThrow(/the units leave trainable weight\(s\) .*kernel.* of the model out/);
  });

  it('several inputs or outputs', () => {
    const a = tfl.input({ shape: [4] });
    const b = tfl.input({ shape: [4] });
    const sum = tfl.layers.add().apply([a, b]) as tfl.SymbolicTensor;
    const out = tfl.layers.dense({ units: 2 }).apply(sum) as tfl.SymbolicTensor;
    const twoInputs = tfl.model({ inputs: [a, b], outputs: out });
    twoInputs.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
    expect(() => createTrainer(twoInputs)).toThrow(/the model has 2 inputs and 1 outputs; only models with one input and one output/);
    const head2 = tfl.layers.dense({ units: 1 }).apply(a) as tfl.SymbolicTensor;
    const twoOutputs = tfl.model({ inputs: a, outputs: [out, head2].slice(1).concat(tfl.layers.dense({ units: 3 }).apply(a) as tfl.SymbolicTensor) });
    twoOutputs.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
    expect(() => createTrainer(twoOutputs)).toThrow(/1 inputs and 2 outputs/);
  });

  it('masks between layers (Embedding maskZero, Masking)', () => {
    const embedded = tfl.sequential({
      layers: [
        tfl.layers.embedding({ inputDim: 10, outputDim: 4, inputLength: 5, maskZero: true }),
        tfl.layers.flatten(),
        tfl.layers.dense({ units: 2 }),
      ],
    });
    embedded.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
    expect(() => createTrainer(embedded)).toThrow(/layer\(s\) embedding.* pass a mask to the layers after them/);
    const masked = tfl.sequential({ layers: [tfl.layers.masking({ inputShape: [5, 3] }), tfl.layers.flatten(), tfl.layers.dense({ units: 2 })] });
    masked.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
    expect(() => createTrainer(masked)).toThrow(/pass a mask/);
  });

  it('a layer shared between two units', () => {
    const input = tfl.input({ shape: [4] });
    const shared = tfl.layers.dense({ units: 4, activation: 'relu' });
    const first = shared.apply(input) as tfl.SymbolicTensor;
    const middle = tfl.layers.dense({ units: 4 }).apply(first) as tfl.SymbolicTensor;
    const second = shared.apply(middle) as tfl.SymbolicTensor;
    const model = tfl.model({ inputs: input, outputs: tfl.layers.dense({ units: 2 }).apply(second) as tfl.SymbolicTensor });
    model.compile({ optimizer: 'sgd', loss: 'meanSquaredError' });
    expect(() => createTrainer(model)).toThrow(/a variable shared across units/);
  });

  it('plugins: use() takes a plugin; frozenPrefix and learning rate are range-checked', async () => {
    const trainer = createTrainer(compiled());
    expect(() => trainer.use({} as never)).toThrow(/use\(\) takes a plugin/);
    expect(() => (trainer.frozenPrefix = 9)).toThrow(/frozenPrefix must be an integer in \[0, 3\], got 9/);
    await expect(trainer.setLearningRate(NaN)).rejects.toThrow(/learningRate must be a finite number ≥ 0, got NaN/);
  });
});

describe('plugin option messages', () => {
  it('optionError and checkOptionNames name the scope, the option, what is allowed and the value', () => {
    expect(() => optionError('plugin-x', 'rate', -1, 'a number in (0, 1]')).toThrow(/^plugin-x: option rate must be a number in \(0, 1\], got -1$/);
    expect(() => checkOptionNames('plugin-x', { rat: 1 }, ['rate', 'seed'])).toThrow(/^plugin-x: option rat must be one of rate, seed, got 'rat'$/);
    expect(() => checkOptionNames('plugin-x', null, ['rate'])).toThrow(/option object must be an object of options, got null/);
    expect(() => checkOptionNames('plugin-x', { seed: 2 }, ['rate', 'seed'])).not.toThrow();
  });
});
