import * as tf from '@tensorflow/tfjs-core';
import { HookStage, readTensorInto, tensorFromBuffer, unitWeights, type Batch, type GradientMap, type StepContext, type Trainer, type PluginDescription, type StatefulPlugin, type CheckpointSave } from '@trainhooks/core-hooks/internal';
import { MpiCommunicator } from './communicator.js';
import { planBuckets, shardRange, type Bucket } from './gradient-buckets.js';
import { idsSignature, namesSignature } from './signature.js';
import { resolveMpiOptions, type MpiOptions } from './options.js';

/** What one step's all-reduce moved, and what the other plugins spared it. */
export interface AllReduceEvent {
  readonly step: number;
  readonly rank: number;
  /** Gradient bytes this rank sent into the all-reduce. */
  readonly bytes: number;
  /** Bytes of trainable variables with no gradient this step (frozen, pruned, skipped): not sent. */
  readonly skippedBytes: number;
  readonly buckets: number;
  readonly ms: number;
}

declare module '@trainhooks/core-hooks' {
  interface TrainerEventMap {
    allreduce: AllReduceEvent;
  }
}

/** For plots: every step's all-reduce, with the options. */
export interface MpiReport extends MpiStats {
  readonly options: MpiOptions;
  readonly series: readonly AllReduceEvent[];
}

export interface MpiStats {
  readonly rank: number;
  readonly size: number;
  readonly steps: number;
  readonly bytes: number;
  readonly skippedBytes: number;
  /** The latest step's figures. */
  readonly last: AllReduceEvent | null;
}

/** Ranks start at different moments (process start-up, imports): the first collective waits at least this long. */
const MIN_START_TIMEOUT_MS = 60_000;

/** The process's one communicator: MPI is initialised once per process. */
let communicator: MpiCommunicator | null = null;

/**
 * Data parallelism on Open MPI as a plugin: every rank trains on its shard of each batch, all-reduces
 * at HookStage.COMMUNICATE the gradients the earlier taps left (frozen and pruned variables are never
 * sent), and applies the same update. Rank 0's weights start every rank, rank 0's frozen prefix is
 * every rank's (HookStage.AGREE), BatchNorm statistics are averaged after each step, and a periodic
 * weight checksum fails loudly if the ranks ever differ.
 */
export class MpiPlugin implements StatefulPlugin<Record<string, never>> {
  readonly name = 'MpiPlugin';
  /**
   * No state of its own: rank 0 writes the checkpoint (the ranks hold the same weights and decisions),
   * every rank restores it, and the communicator starts anew.
   */
  readonly stateKey = 'mpi';
  readonly stateVersion = 1;

  exportState(): Record<string, never> {
    return {};
  }

  importState(): void {}
  readonly options: MpiOptions;
  readonly communicator: MpiCommunicator;
  private globalBatchSize = 0;
  /** Signature of the full batch's sample ids (0 without ids): ranks must train on the same batches. */
  private batchSignature = 0;
  private steps = 0;
  private bytes = 0;
  private skippedBytes = 0;
  private last: AllReduceEvent | null = null;
  private readonly series: AllReduceEvent[] = [];
  private readonly bucketPlans = new Map<number, Bucket[]>();
  private bucketBuffer = MpiCommunicator.buffer(Float32Array, 0, 4);
  private readonly small = MpiCommunicator.buffer(Float64Array, 4, 8);

  constructor(options: Partial<MpiOptions> = {}) {
    this.options = resolveMpiOptions(options);
    communicator ??= MpiCommunicator.init(this.options.timeoutMs);
    this.communicator = communicator;
  }

  get rank(): number {
    return this.communicator.rank;
  }

  get size(): number {
    return this.communicator.size;
  }

  apply(trainer: Trainer): void {
    const { name } = this;
    trainer.hooks.setup.tapPromise(name, () => this.startFromRankZero(trainer));
    trainer.hooks.selectBatch.tap(name, (batch) => this.shard(batch));
    trainer.hooks.beforeForward.tapPromise({ name, stage: HookStage.AGREE }, (context) => this.agreeOnFrozenPrefix(context));
    trainer.hooks.beforeAllReduce.tapPromise({ name, stage: HookStage.COMMUNICATE }, (gradients, context) => this.allReduce(trainer, gradients, context));
    trainer.hooks.afterStep.tapPromise({ name, stage: HookStage.COMMUNICATE }, (context) => this.afterStep(trainer, context));
    trainer.hooks.beforeSave.tap(name, (save) => void (save.write &&= this.rank === 0));
    trainer.hooks.afterSave.tapPromise(name, (save, succeeded) => this.waitForRankZeroSave(save, succeeded));
    trainer.hooks.teardown.tapPromise(name, async () => {
      communicator?.finalize();
    });
  }

  /** How it speeds training, for reports. */
  describe(): PluginDescription {
    return { speedup: 'parallel', communicates: true };
  }

  stats(): MpiStats {
    return { rank: this.rank, size: this.size, steps: this.steps, bytes: this.bytes, skippedBytes: this.skippedBytes, last: this.last };
  }

  report(): MpiReport {
    return { ...this.stats(), options: this.options, series: [...this.series] };
  }

  /** Every rank starts from rank 0's weights (and BatchNorm statistics). */
  private async startFromRankZero(trainer: Trainer): Promise<void> {
    if (this.size === 1) return;
    const variables = allWeights(trainer);
    const timeoutMs = Math.max(this.options.timeoutMs, MIN_START_TIMEOUT_MS);
    await this.collective(variables, (buffer, count) => this.communicator.broadcast(buffer, 0, count, 'broadcast of rank 0’s weights', timeoutMs));
    await trainer.weightsChanged();
  }

  /**
   * Every rank calls trainer.save at the same step; rank 0 writes, the others wait here until its
   * checkpoint is in place (a rank that restores at once must find it whole) and learn whether it is.
   */
  private async waitForRankZeroSave(save: CheckpointSave, succeeded: boolean): Promise<void> {
    if (this.size === 1) return;
    this.small[0] = succeeded ? 1 : 0;
    this.small[1] = save.step;
    const timeoutMs = Math.max(this.options.timeoutMs, MIN_START_TIMEOUT_MS);
    await this.communicator.broadcast(this.small, 0, 2, `waiting for rank 0 to write the checkpoint ${save.dir}`, timeoutMs);
    if (this.rank === 0) return;
    if (this.small[1] !== save.step) throw new Error(`plugin-mpi: rank ${this.rank} saved at step ${save.step}, rank 0 at step ${this.small[1]}: every rank must call trainer.save at the same step`);
    if (this.small[0] !== 1) throw new Error(`plugin-mpi: rank 0 failed to write the checkpoint ${save.dir} (its error is in rank 0's output)`);
  }

  /** This rank's contiguous rows of the batch. */
  private shard(batch: Batch): Batch {
    const batchSize = batch.x.shape[0]!;
    this.globalBatchSize = batchSize;
    this.batchSignature = batch.ids ? idsSignature(batch.ids) : 0;
    if (this.size === 1) return batch;
    const { from, to } = shardRange(batchSize, this.rank, this.size);
    if (to <= from) throw new Error(`plugin-mpi: rank ${this.rank}: a batch of ${batchSize} cannot be shared by ${this.size} ranks`);
    const next = batch.nextIds ? shardRange(batch.nextIds.length, this.rank, this.size) : null;
    return {
      x: tf.slice(batch.x, from, to - from),
      y: tf.slice(batch.y, from, to - from),
      ids: batch.ids ? batch.ids.subarray(from, to) : null,
      nextIds: batch.nextIds && next ? batch.nextIds.subarray(next.from, next.to) : null,
    };
  }

  /**
   * Freeze decisions are made asynchronously per rank; rank 0's is everyone's. With it comes rank 0's
   * batch signature: a rank shuffled differently (no shared shuffleSeed) would train on other batches.
   */
  private async agreeOnFrozenPrefix(context: StepContext): Promise<void> {
    if (this.size === 1) return;
    this.small[0] = context.frozenPrefix;
    this.small[1] = this.batchSignature;
    this.small[2] = this.globalBatchSize;
    await this.communicator.broadcast(this.small, 0, 3, 'broadcast of the frozen prefix');
    if (this.small[1] !== this.batchSignature || this.small[2] !== this.globalBatchSize) {
      throw new Error(
        `plugin-mpi: rank ${this.rank}: step ${context.step} has another batch than rank 0's (${this.globalBatchSize} samples here, ${this.small[2]} there, or other sample ids): give every rank the same data and the same shuffleSeed`,
      );
    }
    context.frozenPrefix = this.small[0]!;
  }

  private async allReduce(trainer: Trainer, gradients: GradientMap, context: StepContext): Promise<GradientMap> {
    const began = performance.now();
    const variables = trainer.variables;
    const sent = variables.filter((variable) => gradients[variable.name] !== undefined);
    const bytes = sent.reduce((sum, variable) => sum + variable.size * 4, 0);
    const skippedBytes = variables.filter((variable) => variable.trainable && gradients[variable.name] === undefined).reduce((sum, variable) => sum + variable.size * 4, 0);
    let reduced = gradients;
    let bucketCount = 0;
    if (this.size > 1) {
      // Names and sizes: one signature checks the ranks agree and keys the bucket plan.
      const signature = namesSignature(sent.map((variable) => `${variable.name}:${variable.size}`));
      await this.checkSameGradients(sent.length, signature, context.step);
      // Each rank's gradient is the mean over its shard: weight it by the shard's share of the batch.
      const share = context.batchSize / this.globalBatchSize;
      reduced = {};
      let buckets = this.bucketPlans.get(signature);
      if (!buckets) {
        buckets = planBuckets(sent.map((variable) => ({ name: variable.name, size: variable.size })), this.options.bucketBytes);
        this.bucketPlans.set(signature, buckets);
      }
      for (const bucket of buckets) {
        const buffer = this.bufferOf(bucket.size);
        for (const entry of bucket.entries) {
          // Scaled by a kernel, then one copy into the bucket: a JavaScript loop over the values cost more than the all-reduce.
          const scaled = tf.mul(gradients[entry.name]!, share);
          readTensorInto(scaled, buffer, entry.offset);
          scaled.dispose();
        }
        await this.communicator.allreduceSum(buffer, bucket.size, `all-reduce of ${bucket.entries.length} gradient(s) at step ${context.step}`);
        for (const entry of bucket.entries) reduced[entry.name] = tensorFromBuffer(buffer.subarray(entry.offset, entry.offset + entry.size), gradients[entry.name]!.shape);
      }
      bucketCount = buckets.length;
    }
    this.last = { step: context.step, rank: this.rank, bytes, skippedBytes, buckets: bucketCount, ms: performance.now() - began };
    this.series.push(this.last);
    this.steps++;
    this.bytes += bytes;
    this.skippedBytes += skippedBytes;
    trainer.telemetry.count('allreduceBytes', bytes);
    trainer.telemetry.count('allreduceSkippedBytes', skippedBytes);
    trainer.events.emit('allreduce', this.last);
    return reduced;
  }

  /** Every rank must send the same gradients, or the all-reduce would add unrelated numbers. */
  private async checkSameGradients(count: number, signature: number, step: number): Promise<void> {
    const values = [count, signature, -count, -signature];
    values.forEach((value, i) => (this.small[i] = value));
    await this.communicator.allreduceMax(this.small, 4, 'comparing gradient sets');
    if (this.small[0] !== count || this.small[1] !== signature || -this.small[2]! !== count || -this.small[3]! !== signature) {
      throw new Error(
        `plugin-mpi: rank ${this.rank}: the ranks disagree on which gradients to all-reduce at step ${step} (this rank has ${count}, ranks range ${-this.small[2]!}–${this.small[0]}); a plugin decided differently on some rank`,
      );
    }
  }

  private async afterStep(trainer: Trainer, context: StepContext): Promise<void> {
    if (this.size === 1) return;
    // BatchNorm statistics come from each rank's shard: average them so the ranks stay identical.
    const statistics = trainer.units.flatMap((unit) => [...(unit.stateVariables ?? [])]);
    if (statistics.length > 0) {
      await this.collective(statistics, (buffer, count) => this.communicator.allreduceSum(buffer, count, 'averaging BatchNorm statistics'), 1 / this.size);
      await trainer.weightsChanged(statistics);
    }
    if (this.options.checkEvery > 0 && context.step % this.options.checkEvery === 0) await this.checkSameWeights(trainer, context.step);
  }

  /** A checksum of every weight, compared across ranks: fails loudly on any divergence. */
  private async checkSameWeights(trainer: Trainer, step: number): Promise<void> {
    let checksum = 0;
    for (const variable of allWeights(trainer)) {
      const values = variable.dataSync();
      for (let i = 0; i < values.length; i++) checksum += values[i]! * ((i % 7) + 1);
    }
    this.small[0] = checksum;
    this.small[1] = -checksum;
    await this.communicator.allreduceMax(this.small, 2, 'weight checksum');
    if (this.small[0] !== checksum || -this.small[1]! !== checksum) {
      throw new Error(`plugin-mpi: rank ${this.rank}: the ranks' weights diverged by step ${step} (checksum here ${checksum}, across ranks ${-this.small[1]!} to ${this.small[0]})`);
    }
  }

  /** Runs a collective over the variables' values, flattened into one buffer, and writes the result back (times `scale`). */
  private async collective(variables: readonly tf.Variable[], run: (buffer: Float32Array, count: number) => Promise<void>, scale = 1): Promise<void> {
    const total = variables.reduce((sum, variable) => sum + variable.size, 0);
    const buffer = this.bufferOf(total);
    let offset = 0;
    for (const variable of variables) {
      readTensorInto(variable, buffer, offset);
      offset += variable.size;
    }
    await run(buffer, total);
    offset = 0;
    for (const variable of variables) {
      const values = buffer.subarray(offset, offset + variable.size);
      tf.tidy(() => variable.assign(scale === 1 ? tensorFromBuffer(values, variable.shape) : tf.mul(tensorFromBuffer(values, variable.shape), scale)));
      offset += variable.size;
    }
  }

  private bufferOf(elements: number): Float32Array {
    if (this.bucketBuffer.length < elements) this.bucketBuffer = MpiCommunicator.buffer(Float32Array, elements, 4);
    return this.bucketBuffer;
  }
}

/** Every weight the ranks must hold alike: trained variables and BatchNorm statistics, in unit order. */
function allWeights(trainer: Trainer): tf.Variable[] {
  return unitWeights(trainer.units).map((weight) => weight.variable);
}

export function mpiPlugin(options: Partial<MpiOptions> = {}): MpiPlugin {
  return new MpiPlugin(options);
}
