/** The callback shape of tfjs-layers (CustomCallbackArgs); every method is optional. */
export interface FitCallbacks {
  onTrainBegin?: (logs?: Record<string, number>) => void | Promise<void>;
  onTrainEnd?: (logs?: Record<string, number>) => void | Promise<void>;
  onEpochBegin?: (epoch: number, logs?: Record<string, number>) => void | Promise<void>;
  onEpochEnd?: (epoch: number, logs?: Record<string, number>) => void | Promise<void>;
  onBatchBegin?: (batch: number, logs?: Record<string, number>) => void | Promise<void>;
  onBatchEnd?: (batch: number, logs?: Record<string, number>) => void | Promise<void>;
}

type CallbackName = keyof FitCallbacks;

/** Calls one callback method on every callback object that has it, in order. */
export class CallbackList {
  private readonly list: FitCallbacks[];

  constructor(callbacks: FitCallbacks | FitCallbacks[] | undefined) {
    this.list = callbacks === undefined ? [] : Array.isArray(callbacks) ? callbacks : [callbacks];
  }

  async call(name: CallbackName, ...args: Array<number | Record<string, number>>): Promise<void> {
    for (const callbacks of this.list) {
      const method = callbacks[name] as ((...a: unknown[]) => void | Promise<void>) | undefined;
      if (method) await method.apply(callbacks, args);
    }
  }
}
