// The seams plugins build on: strategies, the step contract, stepFailed, plugin hooks, typed events,
// the frozen prefix as one source of truth, honest sample ids.
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { SyncHook } from 'tapable';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  createTrainer,
  definePluginHooks,
  HookStage,
  LocalStrategy,
  type ForwardBackwardResult,
  type StepContext,
  type StepRun,
  type StepStrategy,
} from '@trainhooks/core-hooks';
import { denseModel, snapshot, toyData, useCpu } from './helpers.js';

beforeAll(useCpu);

function newTrainer(seed = 1) {
  return createTrainer(denseModel(seed), { optimizer: tf.train.sgd(0.1), loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
}

/** Runs the local strategy, recording what the trainer tells it. */
class RecordingStrategy implements StepStrategy {
  readonly name = 'recording';
  readonly local = new LocalStrategy();
  steps = 0;
  setups = 0;
  changed: string[][] = [];
  setup() {
    this.setups++;
  }
  forwardBackward(context: StepContext, run: StepRun): ForwardBackwardResult {
    this.steps++;
    return this.local.forwardBackward(context, run);
  }
  weightsChanged(variables: readonly tf.Variable[]) {
    this.changed.push(variables.map((v) => v.name));
  }
}

describe('strategies', () => {
  it('a plugin installs one in apply or in a setup tap; it is set up once and told of every update', async () => {
    const { x, y } = toyData(8, 8, 3);
    for (const when of ['apply', 'setup'] as const) {
      const strategy = new RecordingStrategy();
      const trainer = newTrainer().use({
        name: 'pipeline',
        apply(t) {
          if (when === 'apply') t.useStrategy(strategy, 'pipeline');
          else t.hooks.setup.tap('pipeline', () => t.useStrategy(strategy, 'pipeline'));
        },
      });
      await trainer.fit(x, y, { epochs: 2, batchSize: 4 });
      expect(trainer.strategy).toBe(strategy);
      expect([strategy.setups, strategy.steps]).toEqual([1, 4]);
      expect(strategy.changed).toHaveLength(4);
      expect(strategy.changed[0]).toEqual(trainer.variables.map((v) => v.name));
      await trainer.weightsChanged();
      expect(strategy.changed).toHaveLength(5);
      expect(() => trainer.useStrategy(new RecordingStrategy(), 'pipeline')).toThrow(/cannot change the strategy after training started/);
    }
    tf.dispose([x, y]);
  });

  it('two parties replacing the strategy is refused, naming both', () => {
    const trainer = newTrainer();
    trainer.useStrategy(new RecordingStrategy(), 'pipeline');
    expect(() => trainer.useStrategy(new RecordingStrategy(), 'mpi')).toThrow(/mpi cannot install strategy 'recording': pipeline already installed 'recording'/);
  });

  it('the trainer fires afterForward for any strategy, and refuses one that never reports its forward', async () => {
    const { x, y } = toyData(8, 8, 3);
    const silent: StepStrategy = {
      name: 'silent',
      forwardBackward: (context, run) => new LocalStrategy().forwardBackward(context, { ...run, forwardDone: () => undefined }),
    };
    const trainer = createTrainer(denseModel(1), { optimizer: tf.train.sgd(0.1), loss: 'categoricalCrossentropy', strategy: silent });
    const before = tf.memory().numTensors;
    await expect(trainer.step({ x, y })).rejects.toThrow(/strategy 'silent' did not report its forward \(call run.forwardDone once\)/);
    expect(tf.memory().numTensors).toBe(before);

    const fired: boolean[] = [];
    const recording = createTrainer(denseModel(1), { optimizer: tf.train.sgd(0.1), loss: 'categoricalCrossentropy', strategy: new RecordingStrategy() });
    recording.hooks.afterForward.tap('spy', (c) => void fired.push(c.loss !== null && c.output !== null));
    await recording.step({ x, y });
    expect(fired).toEqual([true]);
    tf.dispose([x, y]);
  });

  it('gradients of frozen, skipped or unknown variables never reach hooks or the update, whatever the strategy returns', async () => {
    const { x, y } = toyData(8, 8, 3);
    const trainer = newTrainer(2);
    const [frozenUnit, , lastUnit] = trainer.units;
    const skipped = lastUnit!.variables[1]!;
    // A careless strategy: gradients for every variable, plus one for a name the model does not have.
    const careless: StepStrategy = {
      name: 'careless',
      forwardBackward(context, run) {
        const result = new LocalStrategy().forwardBackward(context, run);
        const extra = Object.fromEntries(
          [...frozenUnit!.variables, skipped].map((v): [string, tf.Tensor] => [v.name, tf.onesLike(v)]).concat([['ghost', tf.scalar(1)]]),
        );
        return { ...result, gradients: { ...result.gradients, ...extra } };
      },
    };
    trainer.useStrategy(careless, 'test');
    trainer.frozenPrefix = 1;
    const seen: string[][] = [];
    trainer.use({
      apply(t) {
        t.hooks.beforeForward.tap({ name: 'prune', stage: HookStage.PRUNE }, (c) => void c.skip.add(skipped.name));
        t.hooks.beforeAllReduce.tap('spy', (gradients) => (seen.push(Object.keys(gradients)), gradients));
      },
    });
    const untouched = snapshot([...frozenUnit!.variables, skipped]);
    await trainer.step({ x, y }); // creates the optimizer state
    const before = tf.memory().numTensors;
    await trainer.step({ x, y });
    expect(tf.memory().numTensors).toBe(before);
    const trained = trainer.variables.slice(2).map((v) => v.name).filter((name) => name !== skipped.name);
    expect(seen.map((names) => [...names].sort())).toEqual([trained.sort(), trained.sort()]);
    expect(snapshot([...frozenUnit!.variables, skipped])).toEqual(untouched);
    expect(trainer.stats().counters.droppedGradients).toBe(8); // 2 frozen + 1 skipped + 1 unknown, twice
    tf.dispose([x, y]);
  });
});

describe('step contract', () => {
  it('stepFailed fires with the error when a hook throws; the step rejects and frees its tensors', async () => {
    const { x, y } = toyData(8, 8, 3);
    const trainer = newTrainer();
    const failures: unknown[] = [];
    let prepared: tf.Tensor | null = null;
    let broken = false;
    trainer.use({
      apply(t) {
        t.hooks.beforeForward.tap('prepare', () => void (prepared = tf.ones([4])));
        t.hooks.beforeAllReduce.tap('boom', (gradients) => {
          if (broken) throw new Error('link down');
          prepared?.dispose();
          return gradients;
        });
        t.hooks.stepFailed.tap('free', (context, error) => {
          failures.push([(error as Error).message, context.step, context.gradients]);
          prepared?.dispose();
        });
      },
    });
    await trainer.step({ x, y }); // optimizer state exists from here on
    broken = true;
    const before = tf.memory().numTensors;
    await expect(trainer.step({ x, y })).rejects.toThrow('link down');
    expect(failures).toEqual([['link down', 1, {}]]);
    expect(tf.memory().numTensors).toBe(before);
    expect(trainer.globalStep).toBe(1);
    tf.dispose([x, y]);
  });

  it('the frozen prefix a plugin sets at beforeForward is the trainer’s from then on, with an event', async () => {
    const { x, y } = toyData(8, 8, 3);
    const trainer = newTrainer();
    const changes: unknown[] = [];
    trainer.events.on('frozenPrefix', (change) => void changes.push(change));
    trainer.use({
      apply: (t) => t.hooks.beforeForward.tap({ name: 'freeze', stage: HookStage.FREEZE }, (c) => void (c.step === 1 && (c.frozenPrefix = 2))),
    });
    const seen: number[] = [];
    trainer.hooks.beforeStep.tap('spy', (c) => void seen.push(c.frozenPrefix));
    for (let i = 0; i < 3; i++) await trainer.step({ x, y });
    expect(seen).toEqual([0, 0, 2]);
    expect(trainer.frozenPrefix).toBe(2);
    expect(changes).toEqual([{ step: 1, previous: 0, next: 2 }]);
    tf.dispose([x, y]);
  });
});

describe('honest sample ids', () => {
  it('null when the data carries none: step without ids, fitDataset elements without ids', async () => {
    const { x, y } = toyData(8, 8, 3);
    const trainer = newTrainer();
    const seen: unknown[] = [];
    trainer.hooks.beforeStep.tap('ids', (c) => void seen.push([c.ids, c.nextIds, c.batchSize]));
    await trainer.step({ x, y });
    expect(seen).toEqual([[null, null, 8]]);
    seen.length = 0;
    const dataset = {
      async iterator() {
        let left = 2;
        return { next: async () => (left-- > 0 ? { done: false, value: [tf.slice(x, 0, 4), tf.slice(y, 0, 4)] as [tf.Tensor, tf.Tensor] } : { done: true as const, value: undefined }) };
      },
    };
    await trainer.fitDataset(dataset, { epochs: 1 });
    expect(seen).toEqual([[null, null, 4], [null, null, 4]]);
    tf.dispose([x, y]);
  });

  it('fit: row ids of the training rows only (validationSplit keeps its rows out), or the caller’s sampleIds', async () => {
    const { x, y } = toyData(10, 8, 3);
    const trainer = newTrainer();
    const ids: number[] = [];
    trainer.hooks.beforeStep.tap('ids', (c) => void ids.push(...c.ids!));
    await trainer.fit(x, y, { epochs: 1, batchSize: 3, validationSplit: 0.2 });
    expect(ids.sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    ids.length = 0;
    await trainer.fit(x, y, { epochs: 1, batchSize: 4, sampleIds: Int32Array.from({ length: 10 }, (_, i) => 500 + i) });
    expect(ids.sort((a, b) => a - b)).toEqual([500, 501, 502, 503, 504, 505, 506, 507, 508, 509]);
    tf.dispose([x, y]);
  });

  it('fitDataset with batchesPerEpoch: nextIds look across the epoch boundary into the same iterator', async () => {
    const { x, y } = toyData(8, 8, 3);
    const trainer = newTrainer();
    const seen: Array<[number[], number[] | null]> = [];
    trainer.hooks.beforeStep.tap('ids', (c) => void seen.push([[...c.ids!], c.nextIds && [...c.nextIds]]));
    const dataset = {
      async iterator() {
        let batch = 0;
        return {
          next: async () => {
            const start = (batch % 4) * 2;
            const ids = Int32Array.from([start, start + 1]);
            batch++;
            return { done: false, value: { xs: tf.slice(x, start, 2), ys: tf.slice(y, start, 2), ids } };
          },
        };
      },
    };
    const before = tf.memory().numTensors;
    await trainer.fitDataset(dataset, { epochs: 2, batchesPerEpoch: 2 });
    expect(seen).toEqual([
      [[0, 1], [2, 3]],
      [[2, 3], [4, 5]],
      [[4, 5], [6, 7]],
      [[6, 7], null],
    ]);
    expect(tf.memory().numTensors - before).toBeLessThanOrEqual(1); // sgd's -lr scalar, nothing per batch
    tf.dispose([x, y]);
  });
});

describe('plugin hooks and typed events', () => {
  it('definePluginHooks gives one frozen table per trainer, whoever asks first', () => {
    const getHooks = definePluginHooks('FreezePlugin', () => ({ decided: new SyncHook<[number]>(['unit']) }));
    const [a, b] = [newTrainer(), newTrainer()];
    const calls: number[] = [];
    getHooks(a).decided.tap('listener', (unit) => void calls.push(unit));
    getHooks(a).decided.call(3);
    getHooks(b).decided.call(4);
    expect(calls).toEqual([3]);
    expect(getHooks(a)).toBe(getHooks(a));
    expect(Object.isFrozen(getHooks(a))).toBe(true);
    expect(() => getHooks(undefined as never)).toThrow(/the hooks of FreezePlugin belong to a trainer/);
  });

  it('a misspelled event name does not compile; declared plugin events do', async () => {
    const root = fileURLToPath(new URL('../..', import.meta.url));
    const fixture = fileURLToPath(new URL('./fixtures/misspelled-event.ts', import.meta.url));
    const tsc = fileURLToPath(new URL('../../node_modules/typescript/bin/tsc', import.meta.url));
    // A project of its own: the fixture alone, with the package resolved to its source.
    const { writeFile, mkdtemp } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const { join } = await import('node:path');
    const dir = await mkdtemp(join(tmpdir(), 'trainhooks-types-'));
    const project = join(dir, 'tsconfig.json');
    await writeFile(project, JSON.stringify({
      compilerOptions: {
        strict: true, noEmit: true, skipLibCheck: true, target: 'ES2022', module: 'ESNext', moduleResolution: 'Bundler', types: ['node'],
        typeRoots: [join(root, 'node_modules/@types')],
        baseUrl: root, paths: { '@trainhooks/core-hooks': ['packages/core-hooks/src/index.ts'] },
      },
      files: [fixture],
    }));
    const result = await promisify(execFile)(process.execPath, [tsc, '-p', project], { cwd: root }).then(
      () => ({ stdout: '' }),
      (error: { stdout: string }) => error,
    );
    const errors = result.stdout.split('\n').filter((line) => line.includes('error TS'));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/misspelled-event\.ts\(14,\d+\): error TS2769: No overload matches this call/);
  }, 60_000);
});

describe('selectBatch: a step may train on part of the batch (a data-parallel shard)', () => {
  it('the step trains on what the tap returns, frees it afterwards, and equals a step on that part', async () => {
    const { x, y } = toyData(8, 8, 3, 9);
    const sharded = newTrainer(4);
    const reference = newTrainer(4);
    const sizes: number[] = [];
    sharded.hooks.selectBatch.tap('shard', (batch, info) => {
      expect(info.step).toBe(sizes.length);
      return { x: tf.slice(batch.x, 0, 4), y: tf.slice(batch.y, 0, 4) };
    });
    sharded.hooks.beforeStep.tap('watch', (context) => void sizes.push(context.batchSize));
    const half = { x: tf.slice(x, 0, 4), y: tf.slice(y, 0, 4) };
    await sharded.step({ x, y });
    await reference.step(half);
    const tensors = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) {
      await sharded.step({ x, y });
      await reference.step(half);
    }
    expect(sizes).toEqual([4, 4, 4, 4]);
    sharded.variables.forEach((variable, i) => expect(tf.tidy(() => tf.max(tf.abs(tf.sub(variable, reference.variables[i]!))).dataSync()[0])).toBe(0));
    // The shards were freed; the caller's x and y were not.
    expect(tf.memory().numTensors).toBe(tensors);
    expect(x.isDisposed || y.isDisposed).toBe(false);
    tf.dispose([x, y, half.x, half.y]);
  });

  it('a tap that returns no batch fails the step with a clear error', async () => {
    const { x, y } = toyData(4, 8, 3);
    const trainer = newTrainer();
    trainer.hooks.selectBatch.tap('broken', () => null as never);
    await expect(trainer.step({ x, y })).rejects.toThrow(/a selectBatch tap must return a batch \{ x, y, ids\? \}, got null/);
    tf.dispose([x, y]);
  });

  it('HookStage.AGREE sits between the freeze decision and pruning', () => {
    expect(HookStage.FREEZE).toBeLessThan(HookStage.AGREE);
    expect(HookStage.AGREE).toBeLessThan(HookStage.PRUNE);
  });
});

describe('plugin reports', () => {
  it('trainer.reports() collects each plugin\'s report() by name; describe() is optional and read as given', async () => {
    const trainer = newTrainer();
    let steps = 0;
    const counting = {
      name: 'counting',
      apply: (t: ReturnType<typeof newTrainer>) => void t.hooks.afterStep.tap('counting', () => void steps++),
      report: () => ({ steps }),
      describe: () => ({ speedup: 'skips-work', communicates: false }) as const,
    };
    trainer.use(counting).use({ name: 'silent', apply: () => {} });
    const { x, y } = toyData(8, 8, 3);
    await trainer.step({ x, y });
    await trainer.step({ x, y });
    expect(trainer.reports()).toEqual({ counting: { steps: 2 } });
    expect(JSON.parse(JSON.stringify(trainer.reports()))).toEqual({ counting: { steps: 2 } });
    expect(counting.describe()).toEqual({ speedup: 'skips-work', communicates: false });
    tf.dispose([x, y]);
    await trainer.dispose();
  });
});
