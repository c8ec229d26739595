/** The callback shape of tfjs-layers (CustomCallbackArgs); every method is optional. */
export interface FitCallbacks {
  onTrainBegin?: (logs?: Record<string, number>) => void | Promise<void>;
  onTrainEnd?: (logs?: Record<string, number>) => void | Promise<void>;
  onEpochBegin?: (epoch: number, logs?: Record<string, number>) => void | Promise<void>;
  onEpochEnd?: (epoch: number, logs?: Record<string, number>) => void | Promise<void>;
  onBatchBegin?: (batch: number, logs?: Record<string, number>) => void | Promise<void>;
  onBatchEnd?: (batch: number, logs?: Record<string, number>) => void | Promise<void>;
}

/** What tfjs' `configureCallbacks` hands every callback through `setParams`. */
export interface CallbackParams {
  epochs: number;
  initialEpoch: number | null;
  samples: number | null;
  steps: number | null;
  batchSize: number | null;
  verbose: number;
  doValidation: boolean;
  metrics: string[];
}

type CallbackName = keyof FitCallbacks;

/** A tf.Callback (tfjs' BaseCallback): it is told the model and the params before training. */
interface TfjsCallback {
  setModel(model: unknown): void;
  setParams(params: CallbackParams): void;
}

function isTfjsCallback(callback: object): callback is TfjsCallback {
  const candidate = callback as Partial<TfjsCallback>;
  return typeof candidate.setModel === 'function' && typeof candidate.setParams === 'function';
}

/**
 * Calls one callback method on every callback object that has it, in order. Like tfjs' own
 * CallbackList, it first gives tf.Callback instances (earlyStopping, user subclasses) the model and
 * the params they read as `this.model` and `this.params`.
 */
export class CallbackList {
  private readonly list: FitCallbacks[];

  constructor(callbacks: FitCallbacks | FitCallbacks[] | undefined, model: unknown, params: CallbackParams) {
    this.list = callbacks === undefined ? [] : Array.isArray(callbacks) ? callbacks : [callbacks];
    for (const callback of this.list) {
      if (!isTfjsCallback(callback)) continue;
      callback.setModel(model);
      callback.setParams(params);
    }
  }

  async call(name: CallbackName, ...args: Array<number | Record<string, number>>): Promise<void> {
    for (const callbacks of this.list) {
      const method = callbacks[name] as ((...a: unknown[]) => void | Promise<void>) | undefined;
      if (method) await method.apply(callbacks, args);
    }
  }
}
