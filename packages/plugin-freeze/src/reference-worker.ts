// The reference model's thread (a piscina worker). It rebuilds the architecture from the model's JSON
// once, then per task loads the weights it is sent and measures each active unit's drift. It has its
// own tfjs engine and backend: nothing here touches the training thread's tensors.
import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { move, transferableSymbol, valueSymbol } from 'piscina';
import { setupBackend, type BackendChoice } from '@trainhooks/backend';
import { unitsFromLayersModel, type Unit } from '@trainhooks/core-hooks';
import { evaluatePlasticity, type EvaluationInput, type EvaluationOutput } from './plasticity-evaluation.js';

export interface WorkerTask extends EvaluationInput {
  /** model.toJSON(null, false) of the training model. */
  readonly topology: object;
  /** Identifies the topology, so the worker builds the model once. */
  readonly topologyKey: string;
  readonly backend: BackendChoice;
  readonly workerSetup: string | null;
  /** Units the training thread sees: the rebuilt model must cut the same way. */
  readonly unitCount: number;
}

let loaded: { key: string; units: readonly Unit[]; weights: tf.Variable[] } | null = null;
let backendReady: Promise<unknown> | null = null;

async function load(task: WorkerTask) {
  if (task.workerSetup) await import(isAbsolute(task.workerSetup) ? pathToFileURL(task.workerSetup).href : task.workerSetup);
  // One thread: the reference runs beside training and must not take its cores.
  backendReady ??= setupBackend(task.backend, { threads: 1, log: () => {}, warn: () => {} });
  await backendReady;
  if (loaded?.key === task.topologyKey) return loaded;
  const model = await tfl.models.modelFromJSON({ modelTopology: task.topology } as never);
  const units = unitsFromLayersModel(model);
  if (units.length !== task.unitCount) {
    throw new Error(`plugin-freeze worker: the rebuilt model has ${units.length} units, the training model ${task.unitCount}`);
  }
  loaded = { key: task.topologyKey, units, weights: model.weights.map((weight) => weight.read() as tf.Variable) };
  return loaded;
}

export default async function evaluate(task: WorkerTask): Promise<EvaluationOutput> {
  const { units, weights } = await load(task);
  const output = evaluatePlasticity(units, weights, task, { currentIsLoaded: false });
  // Piscina's transferable protocol: the snapshot's buffers move back to the training thread, uncopied.
  const buffers = output.snapshot.flatMap((tensor) => [tensor.values.buffer, tensor.scales.buffer]);
  return move({ [transferableSymbol]: buffers, [valueSymbol]: output } as never) as unknown as EvaluationOutput;
}
