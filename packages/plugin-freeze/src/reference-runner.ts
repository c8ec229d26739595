import { dirname, extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type * as tf from '@tensorflow/tfjs-core';
import type { BackendChoice } from '@trainhooks/backend';
import type { Unit } from '@trainhooks/core-hooks';
import { Piscina } from 'piscina';
import { evaluatePlasticity, type EvaluationInput, type EvaluationOutput } from './plasticity-evaluation.js';
import type { WorkerTask } from './reference-worker.js';

/** Where the reference forward runs: a worker thread, or (for models with no JSON architecture) here. */
export interface ReferenceRunner {
  readonly placement: 'worker' | 'main-thread';
  evaluate(input: EvaluationInput): Promise<EvaluationOutput>;
  /** Drops a failed worker; the next evaluate starts a fresh one. */
  restart(): Promise<void>;
  dispose(): Promise<void>;
}

/**
 * A { units } model has no architecture to rebuild elsewhere, so its reference forward runs on the
 * training thread between two steps: the reference weights are loaded into the model's own variables
 * and its weights are put back exactly afterwards. The step waits for it; the report shows the cost.
 */
export class MainThreadReference implements ReferenceRunner {
  readonly placement = 'main-thread' as const;

  constructor(
    private readonly units: readonly Unit[],
    private readonly weights: readonly tf.Variable[],
  ) {}

  async evaluate(input: EvaluationInput): Promise<EvaluationOutput> {
    return evaluatePlasticity(this.units, this.weights, input, { currentIsLoaded: true });
  }

  async restart(): Promise<void> {}
  async dispose(): Promise<void> {}
}

export interface WorkerReferenceConfig {
  readonly topology: object;
  readonly unitCount: number;
  readonly backend: BackendChoice;
  readonly workerSetup: string | null;
  readonly timeoutMs: number;
}

/**
 * One piscina worker that rebuilds the model from its JSON and runs the reference forward, so the
 * training step never waits for it. Weights go over as transferred buffers; a task that exceeds the
 * timeout is aborted (piscina terminates that worker).
 */
export class WorkerReference implements ReferenceRunner {
  readonly placement = 'worker' as const;
  private pool: Piscina | null = null;
  private readonly topologyKey: string;

  constructor(private readonly config: WorkerReferenceConfig) {
    this.topologyKey = JSON.stringify(config.topology);
  }

  async evaluate(input: EvaluationInput): Promise<EvaluationOutput> {
    this.pool ??= createPool();
    const task: WorkerTask = {
      ...input,
      topology: this.config.topology,
      topologyKey: this.topologyKey,
      backend: this.config.backend,
      workerSetup: this.config.workerSetup,
      unitCount: this.config.unitCount,
    };
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(new Error(`the reference evaluation took longer than ${this.config.timeoutMs} ms`)), this.config.timeoutMs);
    timer.unref();
    try {
      // The weight copies are ours alone: move them. The probe and the ring's snapshot are kept here.
      return await this.pool.run(task, { signal: controller.signal, transferList: input.current.map((data) => data.buffer as ArrayBuffer) });
    } catch (error) {
      // Piscina reports an abort as "The task has been aborted": say why it was.
      throw controller.signal.aborted ? controller.signal.reason : error;
    } finally {
      clearTimeout(timer);
    }
  }

  async restart(): Promise<void> {
    const pool = this.pool;
    this.pool = null;
    await pool?.destroy().catch(() => {});
  }

  dispose(): Promise<void> {
    return this.restart();
  }
}

function createPool(): Piscina {
  const { filename, execArgv } = workerLocation();
  // One thread: evaluations never queue (the plugin skips one while the worker is busy).
  return new Piscina({ filename, execArgv, minThreads: 1, maxThreads: 1, idleTimeout: 60_000 });
}

/** The worker module next to this one: .js/.cjs in dist, .ts when running from source (through tsx). */
function workerLocation(): { filename: string; execArgv: string[] } {
  const here = typeof __filename === 'string' ? __filename : fileURLToPath(import.meta.url);
  const extension = extname(here);
  const filename = join(dirname(here), `reference-worker${extension}`);
  return { filename, execArgv: extension === '.ts' ? ['--import', 'tsx'] : [] };
}
