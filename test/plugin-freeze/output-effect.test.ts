import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { createTrainer, HookStage, unitsFromLayersModel, type Trainer } from '@trainhooks/core-hooks';
import { median, totalVariation } from '@trainhooks/core-hooks/internal';
import {
  dequantizeInt8,
  emptyEffect,
  evaluatePlasticity,
  observeEffect,
  quantizeInt8,
  type EffectOptions,
  type EvaluationInput,
  type FreezeOptions,
  type FreezeState,
  type PlasticityEvent,
} from '@trainhooks/plugin-freeze/internal';
import { bitIdentical, denseModel, snapshot, throughCheckpointCodec, toyData, useCpu } from '../core-hooks/helpers.js';
import { freezeTrainer, scriptGradients } from './helpers.js';

beforeAll(useCpu);

describe('observeEffect: the median of the last `patience` output effects against effectThreshold', () => {
  const options: EffectOptions = { effectThreshold: 0.01, patience: 3 };
  const run = (series: number[], state = emptyEffect()) => series.map((value) => observeEffect(state, value, options));

  it('measures until `patience` values are in, then converges iff the median is ≤ the threshold', () => {
    const verdicts = run([0.001, 0.002, 0.003]);
    expect(verdicts.map((v) => [v.streak, v.converged])).toEqual([
      [1, false],
      [2, false],
      [3, true],
    ]);
    expect(verdicts[0]!.reason).toBe('measuring: 1 of 3 evaluations');
    expect(verdicts[1]!.reason).toBe('measuring: 2 of 3 evaluations');
    expect(verdicts[0]!.level).toBeNaN();
    expect(verdicts[1]!.level).toBeNaN();
    expect(verdicts[2]!.level).toBeCloseTo(0.002, 12);
    expect(verdicts[2]!.reason).toBe('converged');
    expect(verdicts[2]!.effect).toBe(0.003);

    // Zero effects (nothing moved) converge; the threshold itself counts as settled.
    expect(run([0, 0, 0]).at(-1)!.converged).toBe(true);
    expect(run([0.01, 0.01, 0.01]).at(-1)!.converged).toBe(true);
    const above = run([0.02, 0.03, 0.011]).at(-1)!;
    expect(above.converged).toBe(false);
    expect(above.level).toBeCloseTo(0.02, 12);
    expect(above.reason).toMatch(/^still matters: .*2\.00 % .*median of 3.* > 1\.00 %$/);
  });

  it('the median: one noisy spike among small values does not block, two large ones do; only the last `patience` count', () => {
    const spike = run([0.001, 0.5, 0.002]).at(-1)!;
    expect(spike.converged).toBe(true);
    expect(spike.level).toBeCloseTo(0.002, 12);

    const twoLarge = run([0.001, 0.5, 0.3]).at(-1)!;
    expect(twoLarge.converged).toBe(false);
    expect(twoLarge.reason).toMatch(/^still matters/);

    // A unit that stops mattering converges once its large effects have left the window.
    const state = emptyEffect();
    const settling = run([0.4, 0.3, 0.2, 0.001, 0.002, 0.001], state);
    expect(settling.map((v) => v.converged)).toEqual([false, false, false, false, true, true]);
    expect(settling.at(-1)!.streak).toBe(3);
    expect(state.values).toEqual([0.001, 0.002, 0.001]);

    // An even window takes the mean of the two middle values.
    const even = observeEffect({ values: [0.001, 0.02, 0] }, 0.9, { effectThreshold: 0.01, patience: 4 });
    expect(even.level).toBeCloseTo((0.001 + 0.02) / 2, 12);
    expect(even.converged).toBe(false);
  });

  it('a NaN, infinite or negative effect resets the streak: `patience` new values are needed', () => {
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, -0.1]) {
      const state = emptyEffect();
      run([0.001, 0.001], state);
      const verdict = observeEffect(state, bad, options);
      expect(verdict.converged).toBe(false);
      expect(verdict.streak).toBe(0);
      expect(verdict.level).toBeNaN();
      expect(verdict.reason).toMatch(Number.isNaN(bad) ? /no output effect: the model's output is not class probabilities/ : /not a finite non-negative number/);
      expect(state.values).toEqual([]);
      const after = run([0.001, 0.001], state);
      expect(after.map((v) => v.reason)).toEqual(['measuring: 1 of 3 evaluations', 'measuring: 2 of 3 evaluations']);
      expect(run([0.001], state)[0]!.converged).toBe(true);
    }
  });
});

describe('evaluatePlasticity: output effect per unit (main-thread style)', () => {
  /** A 3-unit softmax classifier, its units and weight variables, its weights as data, a probe. */
  function setup() {
    const model = denseModel(5, [8, 16, 16, 3]);
    const units = unitsFromLayersModel(model);
    const weights = model.weights.map((weight) => weight.read() as tf.Variable);
    const current = weights.map((variable) => variable.dataSync().slice() as Float32Array);
    const { x, y } = toyData(24, 8, 3, 11);
    const probe = { data: x.dataSync().slice() as Float32Array, shape: [...x.shape] };
    const labels = { data: y.dataSync().slice() as Float32Array, shape: [...y.shape] };
    // Which weights belong to unit 0 (its kernel and bias).
    const ofUnit0 = units[0]!.variables.map((variable) => weights.indexOf(variable));
    return { model, units, weights, current, probe, labels, ofUnit0, x, y };
  }

  /** Unit 0's weights replaced by an unrelated draw, the others as they are: a large move of unit 0 alone. */
  function movedUnit0(current: Float32Array[], ofUnit0: number[]): Float32Array[] {
    return current.map((data, index) =>
      ofUnit0.includes(index) ? Float32Array.from(data, (_, i) => Math.sin(i * 12.9898 + index) * 0.8) : data.slice(),
    );
  }

  it('reference = current weights: every effect is 0; no reference: no effect', () => {
    const { model, units, weights, current, probe, x, y } = setup();
    const reference = current.map((data, index) => quantizeInt8(data, weights[index]!.shape));
    const output = evaluatePlasticity(units, weights, { probe, current, reference, fromUnit: 0, measureEffect: true }, { currentIsLoaded: true });
    expect(units.length).toBe(3);
    expect(output.effect).toEqual([0, 0, 0]);
    expect(output.drift).toEqual([0, 0, 0]);
    expect(output.lossEffect).toBeNull();
    expect(output.probeLoss).toBeNull();

    const first = evaluatePlasticity(units, weights, { probe, current, reference: null, fromUnit: 0, measureEffect: true }, { currentIsLoaded: true });
    expect([first.drift, first.effect, first.lossEffect, first.probeLoss]).toEqual([null, null, null, null]);
    expect(first.snapshot.length).toBe(weights.length);
    tf.dispose([x, y]);
    model.dispose();
  });

  it('unit 0 alone moved far: its effect is large (and matches model.predict by hand), the others ~0; weights bit-identical afterwards; no leaks', () => {
    const { model, units, weights, current, probe, ofUnit0, x, y } = setup();
    const referenceData = movedUnit0(current, ofUnit0);
    const reference = referenceData.map((data, index) => quantizeInt8(data, weights[index]!.shape));
    const before = snapshot(weights);
    const tensors = tf.memory().numTensors;

    const input: EvaluationInput = { probe, current, reference, fromUnit: 0, measureEffect: true };
    const output = evaluatePlasticity(units, weights, input, { currentIsLoaded: true });
    expect(tf.memory().numTensors).toBe(tensors);
    const after = snapshot(weights);
    for (const [name, values] of before) expect(bitIdentical(values, after.get(name)!)).toBe(true);

    const effect = output.effect!;
    expect(effect).toHaveLength(3);
    expect(effect[0]).toBeGreaterThan(0.05);
    expect(effect[1]).toBeLessThan(1e-3);
    expect(effect[2]).toBeLessThan(1e-3);

    // By hand: the model's predictions with unit 0 at the int8 reference, and at its int8 current weights.
    const predictWith = (values: Float32Array[]) => {
      model.setWeights(values.map((data, index) => tf.tensor(data, weights[index]!.shape)));
      return model.predict(x) as tf.Tensor2D;
    };
    const quantizedNow = current.map((data, index) => dequantizeInt8(quantizeInt8(data, weights[index]!.shape)));
    const unit0At = (source: Float32Array[]) => current.map((data, index) => (ofUnit0.includes(index) ? source[index]! : data));
    const now = predictWith(current);
    const atReference = predictWith(unit0At(reference.map(dequantizeInt8)));
    const atQuantized = predictWith(unit0At(quantizedNow));
    predictWith(current);
    const byHand = totalVariation(now, atReference) - totalVariation(now, atQuantized);
    expect(effect[0]).toBeCloseTo(byHand, 5);
    tf.dispose([now, atReference, atQuantized, x, y]);
    model.dispose();
  });

  it('farReference: each unit is also measured against it; unit 0 moving in a straight line moves the predictions about twice as far over twice the lag', () => {
    const { model, units, weights, current, probe, ofUnit0, x, y } = setup();
    const towards = movedUnit0(current, ofUnit0);
    // Unit 0 one lag ago 5 % of the way to `towards`, two lags ago 10 %: a straight line.
    const along = (share: number) => current.map((data, index) => Float32Array.from(data, (value, i) => value + share * (towards[index]![i]! - value)));
    const quantized = (values: Float32Array[]) => values.map((data, index) => quantizeInt8(data, weights[index]!.shape));
    const tensors = tf.memory().numTensors;
    const input: EvaluationInput = { probe, current, reference: quantized(along(0.05)), farReference: quantized(along(0.1)), fromUnit: 0, measureEffect: true };
    const output = evaluatePlasticity(units, weights, input, { currentIsLoaded: true });
    expect(tf.memory().numTensors).toBe(tensors);
    const [effect, far] = [output.effect!, output.farEffect!];
    expect(far).toHaveLength(3);
    expect(effect[0]).toBeGreaterThan(5e-3);
    expect(far[0]! / effect[0]!).toBeGreaterThan(1.7);
    expect(far[0]! / effect[0]!).toBeLessThan(2.3);
    expect(Math.max(far[1]!, far[2]!)).toBeLessThan(1e-3);
    // The effects against the reference are those of an evaluation without a far reference.
    const without = evaluatePlasticity(units, weights, { ...input, farReference: null }, { currentIsLoaded: true });
    expect(without.effect).toEqual(effect);
    expect(without.farEffect).toBeNull();
    tf.dispose([x, y]);
    model.dispose();
  });

  it('toUnit and measureDrift: only units [fromUnit, toUnit) are measured, with the same effects as in a whole evaluation; no drift when not asked; no leaks', () => {
    const { model, units, weights, current, probe, ofUnit0, x, y } = setup();
    const reference = movedUnit0(current, ofUnit0).map((data, index) => quantizeInt8(data, weights[index]!.shape));
    const whole = evaluatePlasticity(units, weights, { probe, current, reference, fromUnit: 0, measureEffect: true }, { currentIsLoaded: true });
    const tensors = tf.memory().numTensors;
    const before = snapshot(weights);
    const part = evaluatePlasticity(units, weights, { probe, current, reference, fromUnit: 0, toUnit: 2, measureEffect: true, measureDrift: false }, { currentIsLoaded: true });
    expect(tf.memory().numTensors).toBe(tensors);
    const after = snapshot(weights);
    for (const [name, values] of before) expect(bitIdentical(values, after.get(name)!)).toBe(true);
    expect(part.effect).toEqual(whole.effect!.slice(0, 2));
    expect(part.drift).toBeNull();
    expect(whole.drift).toHaveLength(3);
    // An empty range, or no reference: a snapshot only.
    const none = evaluatePlasticity(units, weights, { probe, current, reference, fromUnit: 2, toUnit: 2, measureEffect: true }, { currentIsLoaded: true });
    expect([none.drift, none.effect]).toEqual([null, null]);
    expect(none.snapshot).toHaveLength(weights.length);
    tf.dispose([x, y]);
    model.dispose();
  });

  it('fromUnit: only the active units are measured', () => {
    const { model, units, weights, current, probe, x, y } = setup();
    const reference = current.map((data, index) => quantizeInt8(data, weights[index]!.shape));
    const output = evaluatePlasticity(units, weights, { probe, current, reference, fromUnit: 1, measureEffect: true }, { currentIsLoaded: true });
    expect(output.effect).toEqual([0, 0]);
    expect(output.drift).toHaveLength(2);
    tf.dispose([x, y]);
    model.dispose();
  });

  it('with probe labels: lossEffect per unit and the probe loss now and at the reference, matching a hand computation', () => {
    const { model, units, weights, current, probe, labels, ofUnit0, x, y } = setup();
    const reference = movedUnit0(current, ofUnit0).map((data, index) => quantizeInt8(data, weights[index]!.shape));
    const before = snapshot(weights);
    const output = evaluatePlasticity(units, weights, { probe, probeLabels: labels, current, reference, fromUnit: 0, measureEffect: true }, { currentIsLoaded: true });
    const after = snapshot(weights);
    for (const [name, values] of before) expect(bitIdentical(values, after.get(name)!)).toBe(true);

    expect(output.lossEffect).toHaveLength(3);
    output.lossEffect!.forEach((value) => expect(Number.isFinite(value)).toBe(true));
    // Units 1 and 2 have the same weights in the reference: undoing them changes no loss.
    expect(output.lossEffect![1]).toBe(0);
    expect(output.lossEffect![2]).toBe(0);
    expect(Number.isFinite(output.probeLoss!.now)).toBe(true);
    expect(Number.isFinite(output.probeLoss!.atReference)).toBe(true);

    const crossEntropy = (predictions: tf.Tensor2D) =>
      tf.tidy(() => tf.neg(tf.mean(tf.sum(tf.mul(y, tf.log(tf.clipByValue(predictions, 1e-7, 1))), 1))).dataSync()[0]!);
    const predictWith = (values: Float32Array[]) => {
      model.setWeights(values.map((data, index) => tf.tensor(data, weights[index]!.shape)));
      return model.predict(x) as tf.Tensor2D;
    };
    const now = predictWith(current);
    // Every active unit at the reference = unit 0 at the reference (the others' reference is their int8 copy).
    const allAtReference = predictWith(reference.map(dequantizeInt8));
    predictWith(current);
    expect(output.probeLoss!.now).toBeCloseTo(crossEntropy(now), 5);
    expect(output.probeLoss!.atReference).toBeCloseTo(crossEntropy(allAtReference), 5);
    // Without labels the loss fields are null, the effects the same.
    const unlabelled = evaluatePlasticity(units, weights, { probe, current, reference, fromUnit: 0, measureEffect: true }, { currentIsLoaded: true });
    expect(unlabelled.lossEffect).toBeNull();
    expect(unlabelled.probeLoss).toBeNull();
    expect(unlabelled.effect).toEqual(output.effect);
    tf.dispose([now, allAtReference, x, y]);
    model.dispose();
  });
});

/** Default criterion ('output-effect', effectThreshold 0.0075, referenceLag 2, patience 3, warmupSteps 0), evaluations every 5 steps. */
const EFFECT: Partial<FreezeOptions> = { evalEvery: 5, deterministic: true };

function newTrainer(options: Partial<FreezeOptions>, optimizer: tf.Optimizer = tf.train.sgd(0.1), seed = 1) {
  return freezeTrainer(EFFECT, options, optimizer, seed);
}

async function train(trainer: Trainer, steps: number, data: { x: tf.Tensor; y: tf.Tensor }) {
  for (let i = 0; i < steps; i++) await trainer.step(data);
}

/**
 * Unit 0's weights scripted (SGD at lr 0.1 given the gradient that puts them there), every other unit
 * still: 'jitter' — a fresh draw of N(0, size) around the start each step; 'drift' — `size` further along
 * one fixed random direction each step. Returns what disposes the start copies it keeps.
 */
function scriptUnit0(trainer: Trainer, movement: 'jitter' | 'drift', size: number): () => void {
  const start = new Map(trainer.units[0]!.variables.map((variable) => [variable.name, tf.keep(tf.clone(variable))]));
  trainer.hooks.beforeAllReduce.tap('scripted', (gradients, context) => {
    const replaced = { ...gradients };
    for (const [name, gradient] of Object.entries(gradients)) {
      gradient!.dispose();
      const variable = trainer.variables.find((candidate) => candidate.name === name)!;
      const origin = start.get(name);
      replaced[name] = tf.tidy(() => {
        if (!origin) return tf.zerosLike(variable);
        const seed = context.step * 7 + name.length;
        const target =
          movement === 'jitter'
            ? tf.add(origin, tf.randomNormal(variable.shape, 0, size, 'float32', seed))
            : tf.add(variable, tf.mul(tf.randomNormal(variable.shape, 0, 1, 'float32', name.length), size));
        return tf.div(tf.sub(variable, target), 0.1);
      });
    }
    return replaced;
  });
  return () => tf.dispose([...start.values()]);
}

describe("FreezePlugin with criterion 'output-effect' (the default)", () => {
  it.each([
    ['worker', 'all-but-head', [0, 1, 2]],
    ['main-thread', undefined, [0, 1]],
  ] as const)(
    'nothing moves (SGD lr 1e-7): every unit that may freeze, front to back, together at the first evaluation that judges them all, as early as the ring and patience allow (reference on the %s, maxFrozenUnits %s)',
    async (reference, maxFrozenUnits, expected) => {
      const probeData = toyData(16, 8, 3, 9);
      const options: Partial<FreezeOptions> = { reference, probe: probeData.x, probeLabels: probeData.y };
      if (maxFrozenUnits) options.maxFrozenUnits = maxFrozenUnits;
      const { trainer, plugin, events } = newTrainer(options, tf.train.sgd(1e-7));
      expect(plugin.options.criterion).toBe('output-effect');
      const data = toyData(32, 8, 3);
      await train(trainer, 60, data);

      expect(events.freeze.map((event) => event.index)).toEqual(expected);
      expect(trainer.frozenPrefix).toBe(expected.length); // the head (and, by default, the unit under it) stays
      // Evaluation k starts at step 5k + 4 and applies 5 steps later; the first with a reference is k = referenceLag,
      // so `patience` effects are in at k = referenceLag + patience − 1 = 4: applied at step 29. The first
      // unit and the `lookahead` 2 after it were measured from the start, so they pass together.
      expect(events.freeze.map((event) => event.step)).toEqual(expected.map(() => 29));
      const report = plugin.report();
      expect(report.placement).toBe(reference);
      expect(report.timeline.map((entry) => entry.frozenPrefix)).toEqual(expected.map((_, i) => i + 1));

      const series = report.units[0]!.series;
      expect(series.map((point) => point.reason)).toEqual(['measuring: 1 of 3 evaluations', 'measuring: 2 of 3 evaluations', 'converged']);
      for (const point of series) {
        expect(point.effect).toBeGreaterThanOrEqual(0);
        expect(point.effect).toBeLessThanOrEqual(0.0075);
        expect(Number.isFinite(point.lossEffect)).toBe(true);
        expect(Number.isFinite(point.probeLoss!.now)).toBe(true);
      }
      expect(series[2]!.effectLevel).toBeLessThanOrEqual(0.0075);
      expect(series[0]!.effectLevel).toBeNaN();
      // Units past maxFrozenUnits can never freeze: they are never measured.
      const head = report.units.at(-1)!;
      expect(head.frozen).toBe(false);
      expect(head.series).toEqual([]);
      expect(head.lastVerdict).toBeNull();
      expect(series.every((point) => point.drift === null)).toBe(true); // 'output-effect' does not read drift
      tf.dispose([data.x, data.y, probeData.x, probeData.y]);
    },
  );

  it('every unit moving to a fresh random draw each step: nothing freezes, and the report says it still matters', async () => {
    const { trainer, plugin, events } = newTrainer({ reference: 'main-thread', maxFrozenUnits: 'all-but-head' });
    scriptGradients(trainer, []);
    const data = toyData(32, 8, 3);
    await train(trainer, 100, data);
    expect(events.freeze).toEqual([]);
    expect(trainer.frozenPrefix).toBe(0);
    const report = plugin.report();
    // Far above the threshold and not falling: after the first `patience` effects, evaluations are
    // spaced out (at most maxEvalSpacing = 4 boundaries apart); every boundary still takes a snapshot.
    expect(report.evaluations + report.spacedOutEvaluations).toBe(20);
    expect(report.spacedOutEvaluations).toBeGreaterThanOrEqual(6);
    const steps = report.units[0]!.series.map((point) => point.step);
    const gaps = steps.slice(1).map((step, i) => step - steps[i]!);
    expect(Math.max(...gaps)).toBeLessThanOrEqual(5 * 4);
    expect(gaps.slice(0, 2)).toEqual([5, 5]);
    expect(report.nextEvaluationStep).toBeGreaterThan(100);
    // The units that may freeze (all but the head) are measured; the head never is.
    for (const unit of report.units.slice(0, 3)) {
      expect(unit.lastVerdict!.converged).toBe(false);
      expect(unit.lastVerdict!.reason).toMatch(/^still matters/);
      expect(unit.series.at(-1)!.effectLevel).toBeGreaterThan(0.0075);
    }
    expect(report.units[3]!.series).toEqual([]);
    tf.dispose([data.x, data.y]);
  });

  it('units freeze together only up to the first one that still matters: the prefix stays contiguous', async () => {
    const { trainer, events } = newTrainer({ reference: 'main-thread', maxFrozenUnits: 'all-but-head' });
    scriptGradients(trainer, [0, 2]); // unit 1 moves to a fresh random draw every step (huge jitter)
    const data = toyData(32, 8, 3);
    await train(trainer, 80, data);
    expect(events.freeze.map((event) => event.index)).toEqual([0]);
    expect(trainer.frozenPrefix).toBe(1);
    tf.dispose([data.x, data.y]);
  });

  it("effectMovement 'directed' freezes a unit that only jitters around a point, which 'total' holds back; a unit drifting as far is held back by both", async () => {
    const data = toyData(32, 8, 3);
    const probeData = toyData(32, 8, 3, 9);
    const run = async (movement: 'jitter' | 'drift', options: Partial<FreezeOptions>) => {
      const { trainer, plugin, events } = newTrainer({ reference: 'main-thread', maxEvalSpacing: 1, probe: probeData.x, ...options });
      const disposeStart = scriptUnit0(trainer, movement, movement === 'jitter' ? 0.02 : 0.004);
      await train(trainer, 80, data);
      disposeStart();
      return { freezes: events.freeze.filter((event) => event.index === 0), series: plugin.report().units[0]!.series };
    };
    // What unit 0's jitter moves over one lag, and the threshold set between half of it and all of it.
    const measured = await run('jitter', { effectMovement: 'total', effectThreshold: 1 });
    const jitter = median(measured.series.map((point) => point.lagEffect!));
    expect(measured.series.every((point) => point.farEffect === null)).toBe(true);
    const effectThreshold = 0.7 * jitter;

    const total = await run('jitter', { effectMovement: 'total', effectThreshold });
    expect(total.freezes).toEqual([]);
    const directed = await run('jitter', { effectMovement: 'directed', effectThreshold });
    expect(directed.freezes).toHaveLength(1);
    const judged = directed.series.filter((point) => point.farEffect !== null);
    expect(judged.length).toBeGreaterThanOrEqual(3);
    // Jitter: about as far over two lags as over one (each point is noisy: a 32-sample probe), so it
    // counts at half — exactly, wherever the two effects are less than √3 apart.
    expect(median(judged.map((point) => point.farEffect! / point.lagEffect!))).toBeLessThan(1.3);
    for (const point of judged.filter((point) => point.farEffect! < Math.sqrt(3) * point.lagEffect!)) {
      expect(point.effect).toBeCloseTo(point.lagEffect! / 2, 12);
    }
    // Before the ring reaches two lags back, the whole effect is judged.
    expect(directed.series[0]!.effect).toBe(directed.series[0]!.lagEffect);

    // A drift whose effect over one lag is at least the jitter's: twice as far over two lags, held back.
    const drift = await run('drift', { effectMovement: 'directed', effectThreshold });
    expect(drift.freezes).toEqual([]);
    const drifting = drift.series.filter((point) => point.farEffect !== null);
    expect(median(drifting.map((point) => point.lagEffect!))).toBeGreaterThan(jitter);
    expect(median(drifting.map((point) => point.farEffect! / point.lagEffect!))).toBeGreaterThan(1.8);
    expect(median(drifting.map((point) => point.effect!))).toBeGreaterThan(effectThreshold);
    tf.dispose([data.x, data.y, probeData.x, probeData.y]);
  });

  it('a unit another plugin rests (context.skip) on 3 steps of 4 is judged as if it had trained on every step: resting it does not make it look settled', async () => {
    const data = toyData(32, 8, 3);
    const probeData = toyData(32, 8, 3, 9);
    const run = async (effectThreshold: number, restEvery: 'never' | 'three-of-four' | 'always' = 'three-of-four', effectMovement: 'total' | 'directed' = 'total') => {
      const { trainer, plugin, events } = newTrainer({ reference: 'main-thread', maxEvalSpacing: 1, effectMovement, probe: probeData.x, effectThreshold });
      // What grad-prune does to a group it judges converged: no gradient, no update, on most steps.
      trainer.hooks.beforeForward.tap({ name: 'rests-unit-0', stage: HookStage.PRUNE }, (context) => {
        const rests = restEvery === 'always' || (restEvery === 'three-of-four' && context.step % 4 !== 0);
        if (rests) for (const variable of trainer.units[0]!.variables) context.skip.add(variable.name);
      });
      const disposeStart = scriptUnit0(trainer, 'drift', 0.004);
      await train(trainer, 80, data);
      disposeStart();
      return { freezes: events.freeze.filter((event) => event.index === 0), series: plugin.report().units[0]!.series };
    };
    const measured = await run(1e-9); // never passes: measured at every evaluation
    expect(measured.series.length).toBeGreaterThanOrEqual(10);
    for (const point of measured.series) {
      // A lag is 2 evaluations of 5 steps: unit 0 trained on the 2 or 3 of those 10 that are multiples of 4.
      expect([0.2, 0.3]).toContainEqual(point.trainedShare);
      expect(point.effect).toBeCloseTo(point.lagEffect! / point.trainedShare!, 12);
    }
    const measuredLag = median(measured.series.map((point) => point.lagEffect!));
    // Under a threshold of twice what it measured (the raw effect passes), its effect at full rate (~4×) does not.
    expect((await run(2 * measuredLag)).freezes).toEqual([]);
    expect((await run(8 * measuredLag)).freezes).toHaveLength(1);
    // Rested on every step: no window in which it trained, nothing to judge, never frozen on no evidence.
    const rested = await run(1, 'always');
    expect(rested.series).toEqual([]);
    expect(rested.freezes).toEqual([]);
    // Directed: a drift scales with the steps as well (jitter only with their square root): judged above
    // what was measured, and for this drift about what all of it taken as drift gives.
    const directed = (await run(1e-9, 'three-of-four', 'directed')).series.filter((point) => point.farEffect !== null);
    expect(directed.length).toBeGreaterThanOrEqual(5);
    for (const point of directed) expect(point.effect!).toBeGreaterThan(point.lagEffect!);
    const againstDrift = median(directed.map((point) => point.effect! / (point.lagEffect! / point.trainedShare!)));
    expect(againstDrift).toBeGreaterThan(0.7);
    expect(againstDrift).toBeLessThan(1.3);
    // Nothing rested: every point says so, and the effect judged is the one measured, bit for bit.
    for (const point of (await run(1e-9, 'never')).series) {
      expect(point.trainedShare).toBe(1);
      expect(point.effect).toBe(point.lagEffect);
    }
    tf.dispose([data.x, data.y, probeData.x, probeData.y]);
  });

  it("effectMovement 'auto' (the default): 'directed' in a fine-tuning, 'total' from scratch, and the report says which", async () => {
    const data = toyData(32, 8, 3);
    const movement = async (pretrainedUnits: number) => {
      const { trainer, plugin } = freezeTrainer(EFFECT, { reference: 'main-thread', maxEvalSpacing: 1 }, tf.train.sgd(0.1), 1, { pretrainedUnits });
      expect(plugin.options.effectMovement).toBe('auto');
      await train(trainer, 40, data);
      const series = plugin.report().units[0]!.series;
      return { regime: plugin.report().regime, measuredFar: series.some((point) => point.farEffect !== null) };
    };
    expect(await movement(0)).toEqual({ regime: { name: 'from-scratch', pretrainedUnits: 0, maxFrozenUnits: 2, effectMovement: 'total' }, measuredFar: false });
    expect(await movement(3)).toEqual({ regime: { name: 'fine-tuning', pretrainedUnits: 3, maxFrozenUnits: 2, effectMovement: 'directed' }, measuredFar: true });
    tf.dispose([data.x, data.y]);
  });

  it('a learning-rate change unfreezes and restarts the effect streaks: no refreeze before the ring and `patience` have filled again', async () => {
    const { trainer, events } = newTrainer({ reference: 'main-thread' }, tf.train.sgd(1e-7));
    const data = toyData(32, 8, 3);
    await train(trainer, 40, data);
    expect(trainer.frozenPrefix).toBe(2);
    await trainer.setLearningRate(1e-8);
    const seen = { freeze: events.freeze.length, plasticity: events.plasticity.length };
    // referenceLag + patience evaluations after the change, the last applied evalEvery after it starts.
    await train(trainer, 5 * (2 + 3), data);
    expect(events.unfreeze.map((event) => event.index)).toEqual([1, 0]);
    expect(events.freeze.length).toBe(seen.freeze);
    // Every unit that may freeze (maxFrozenUnits all-but-2: units 0 and 1) starts measuring again.
    const firstAfter = events.plasticity.slice(seen.plasticity)[0]!;
    expect(firstAfter.units.map((unit) => [unit.index, unit.reason])).toEqual([0, 1].map((index) => [index, 'measuring: 1 of 3 evaluations']));
    await train(trainer, 10, data);
    expect(events.freeze.slice(seen.freeze).map((event) => event.index)).toEqual([0, 1]);
    tf.dispose([data.x, data.y]);
  });

  it('evaluating on the main thread (effects, probe loss) puts the weights back exactly: with nothing frozen, training equals training without the plugin', async () => {
    const data = toyData(32, 8, 3);
    const probeData = toyData(16, 8, 3, 9);
    const plain = createTrainer(denseModel(3, [8, 16, 16, 16, 3]), { optimizer: tf.train.adam(0.01), loss: 'categoricalCrossentropy' });
    await train(plain, 40, data);
    // effectThreshold tiny: nothing converges, but every evaluation (none spaced out) swaps reference weights in and out, unit by unit.
    const { trainer, plugin, events } = newTrainer(
      { reference: 'main-thread', effectThreshold: 1e-9, maxEvalSpacing: 1, probe: probeData.x, probeLabels: probeData.y },
      tf.train.adam(0.01),
      3,
    );
    await train(trainer, 40, data);
    expect(plugin.report().evaluations).toBe(8);
    expect(events.freeze).toEqual([]);
    expect(plugin.report().units[0]!.series.at(-1)!.lossEffect).not.toBeNull();
    const [a, b] = [snapshot(plain.variables), snapshot(trainer.variables)];
    for (const [index, variable] of plain.variables.entries()) {
      expect(bitIdentical(a.get(variable.name)!, b.get(trainer.variables[index]!.name)!)).toBe(true);
    }
    await plain.dispose();
    tf.dispose([data.x, data.y, probeData.x, probeData.y]);
  });

  it('no tensor leaks over 100 steps (main thread, probe labels, freezes and evaluations going on)', async () => {
    const probeData = toyData(16, 8, 3, 9);
    const { trainer, plugin, events } = newTrainer({ reference: 'main-thread', maxFrozenUnits: 'all-but-head', probe: probeData.x, probeLabels: probeData.y });
    scriptGradients(trainer, [0, 1]);
    const data = toyData(32, 8, 3);
    await train(trainer, 60, data);
    expect(events.freeze.map((event) => event.index)).toEqual([0, 1]);
    const tensors = tf.memory().numTensors;
    const before = plugin.report();
    const boundaries = before.evaluations + before.spacedOutEvaluations;
    await train(trainer, 100, data);
    expect(tf.memory().numTensors).toBe(tensors);
    const report = plugin.report();
    expect(report.evaluations + report.spacedOutEvaluations - boundaries).toBe(20); // snapshot-only boundaries leak nothing either
    expect(report.spacedOutEvaluations).toBeGreaterThan(before.spacedOutEvaluations);
    expect(trainer.frozenPrefix).toBe(2);
    tf.dispose([data.x, data.y, probeData.x, probeData.y]);
  });

  it('export → import in a new trainer and model keeps the effect streaks and the steps each unit trained on: identical decisions and effects on the same data', async () => {
    const data = toyData(32, 8, 3);
    const options: Partial<FreezeOptions> = { reference: 'main-thread', maxFrozenUnits: 'all-but-head' };
    // Unit 1 rested on odd steps (as grad-prune would): its effects are judged at full rate, from counts the state must carry.
    const restUnit1 = (trainer: Trainer) =>
      trainer.hooks.beforeForward.tap({ name: 'rests-unit-1', stage: HookStage.PRUNE }, (context) => {
        if (context.step % 2 === 1) for (const variable of trainer.units[1]!.variables) context.skip.add(variable.name);
      });
    const first = newTrainer(options, tf.train.sgd(0.1), 7);
    scriptGradients(first.trainer, [0, 1, 2]);
    restUnit1(first.trainer);
    await train(first.trainer, 23, data); // mid-way between two evaluations, one in flight
    const state = throughCheckpointCodec(await first.trainer.exportState());
    const freezeState = state.plugins.freeze!.state as FreezeState;
    expect(freezeState.effects!.some((effect) => effect.values.length > 0)).toBe(true);
    expect(freezeState.pending!.effect).toHaveLength(3); // units 0–2: the head never freezes, so it is not measured
    const weights = first.trainer.variables.map((variable) => variable.dataSync().slice());
    const seen = { freeze: first.events.freeze.length, plasticity: first.events.plasticity.length };
    await train(first.trainer, 60, data);
    const expected = { freeze: first.events.freeze.slice(seen.freeze), plasticity: first.events.plasticity.slice(seen.plasticity) };
    expect(expected.freeze.length).toBeGreaterThan(0);

    const resume = async (saved: unknown) => {
      const second = newTrainer(options, tf.train.sgd(0.1), 8); // other initial weights: the checkpoint must override them
      scriptGradients(second.trainer, [0, 1, 2]);
      restUnit1(second.trainer);
      second.trainer.variables.forEach((variable, i) => variable.assign(tf.tensor(weights[i]!, variable.shape)));
      await second.trainer.importState(saved as never);
      await train(second.trainer, 60, data);
      return second;
    };
    const decisions = (events: PlasticityEvent[]) =>
      events.map((event) => [event.step, event.units.map((unit) => [unit.index, unit.effect, unit.lagEffect, unit.trainedShare, unit.farEffect, unit.effectLevel, unit.streak, unit.converged])]);
    const second = await resume(state);
    expect(second.events.freeze.map(({ index, step }) => ({ index, step }))).toEqual(expected.freeze.map(({ index, step }) => ({ index, step })));
    expect(decisions(second.events.plasticity)).toEqual(decisions(expected.plasticity));
    expect(second.trainer.frozenPrefix).toBe(first.trainer.frozenPrefix);
    expect(expected.plasticity.flatMap((event) => event.units.filter((unit) => unit.index === 1).map((unit) => unit.trainedShare))).toContain(0.5);

    // Control: a state without the streaks (saved before the output-effect criterion) restarts them, and freezes later.
    const { effects: _dropped, ...withoutEffects } = freezeState;
    const restarted = await resume({ ...state, plugins: { ...state.plugins, freeze: { version: first.plugin.stateVersion, state: withoutEffects } } });
    expect(restarted.events.freeze[0]!.step).toBeGreaterThan(expected.freeze[0]!.step);
    tf.dispose([data.x, data.y]);
  });
});
