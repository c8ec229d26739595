// A pipeline stage's thread. It has its own tfjs engine and backend, rebuilds the model from its JSON
// (every stage holds the whole architecture, so re-partitioning moves only weights), and runs the
// units the training thread assigns it for each batch.
import { isAbsolute } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parentPort, type MessagePort } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import { setupBackend, type BackendChoice } from '@trainhooks/backend';
import { unitsFromLayersModel } from '@trainhooks/core-hooks';
import { checkDeferredTapeSupport } from './deferred-tape.js';
import { StageRuntime, type StageLinks } from './stage-runtime.js';
import type { FromStage, InitMessage, NeighbourMessage, ToStage } from './stage-protocol.js';
import { buffersOf, type TransferredTensor } from './tensor-transfer.js';
import { profileUnits } from './unit-profile.js';

const port = parentPort!;
let runtime: StageRuntime | null = null;
let links: StageLinks | null = null;
/** Steps run one after another, in the order they were sent. */
let queue: Promise<void> = Promise.resolve();

function reply(message: FromStage, transfer: ArrayBuffer[] = []): void {
  port.postMessage(message, transfer);
}

/** The training thread's backend, with our kernels, on this stage's share of the threads. */
async function startBackend(choice: BackendChoice, threads: number): Promise<void> {
  await setupBackend(choice, { threads, log: () => {}, warn: () => {} });
}

function neighbourLinks(previous: MessagePort | null, next: MessagePort | null): StageLinks {
  const send = (target: MessagePort | null, message: NeighbourMessage | FromStage, tensor: TransferredTensor) => {
    if (target) target.postMessage(message, buffersOf([tensor]));
    else reply(message as FromStage, buffersOf([tensor]));
  };
  return {
    sendActivation: (step, microBatch, tensor) =>
      next ? send(next, { type: 'activation', step, microBatch, tensor }, tensor) : send(null, { type: 'output', step, microBatch, tensor }, tensor),
    sendInputGradient: (step, microBatch, tensor) => send(previous, { type: 'gradient', step, microBatch, tensor }, tensor),
    sendFrozenOutput: (step, microBatch, tensor) => send(null, { type: 'frozenOutput', step, microBatch, tensor }, tensor),
  };
}

async function init(message: InitMessage): Promise<void> {
  if (message.workerSetup) await import(isAbsolute(message.workerSetup) ? pathToFileURL(message.workerSetup).href : message.workerSetup);
  await startBackend(message.backend, message.threads);
  checkDeferredTapeSupport();
  const model = await tfl.models.modelFromJSON({ modelTopology: message.topology } as never);
  const units = unitsFromLayersModel(model);
  if (units.length !== message.unitCount) {
    throw new Error(`plugin-pipeline stage ${message.stage}: the rebuilt model has ${units.length} units, the training model ${message.unitCount}`);
  }
  runtime = new StageRuntime(units);
  links = neighbourLinks(message.previous, message.next);
  const deliver = (received: NeighbourMessage) => runtime!.inbox.put(`${received.type}:${received.step}:${received.microBatch}`, received.tensor);
  message.previous?.on('message', deliver);
  message.next?.on('message', deliver);
  reply({ type: 'ready' });
}

function fail(error: unknown): void {
  reply({ type: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
}

port.on('message', (message: ToStage) => {
  switch (message.type) {
    case 'init':
      init(message).catch(fail);
      return;
    case 'ping':
      reply({ type: 'pong' });
      return;
    case 'outputGradient':
      runtime!.inbox.put(`gradient:${message.step}:${message.microBatch}`, message.tensor);
      return;
    case 'profile':
      queue = queue.then(() => reply({ type: 'profile', profile: profileUnits(runtime!.units, message.inputShape, message.repeats) })).catch(fail);
      return;
    case 'step':
      queue = queue
        .then(async () => {
          const done = await runtime!.runStep(message, links!);
          const answer = { ...done, tensorsAlive: tf.memory().numTensors };
          reply(answer, buffersOf([...done.gradients, ...done.state].map((value) => value.tensor)));
        })
        .catch(fail);
      return;
  }
});
