// The Emscripten glue of tfjs-backend-wasm adds process-wide `uncaughtException` and
// `unhandledRejection` listeners that rethrow, so any uncaught error of the program afterwards prints
// the whole minified glue (tens of KB on one line) before its message. Backend start-up should leave
// the process's error handling as it found it.
const EVENTS = ['uncaughtException', 'unhandledRejection'] as const;
type Listener = (...args: unknown[]) => void;
const listenersOf = (event: (typeof EVENTS)[number]) => process.listeners(event as 'uncaughtException') as Listener[];

/** Runs `start`, then removes every listener of those events that appeared meanwhile. */
export async function preservingProcessErrorHandlers<T>(start: () => Promise<T>): Promise<T> {
  const before = new Map(EVENTS.map((event) => [event, new Set(listenersOf(event))]));
  try {
    return await start();
  } finally {
    for (const event of EVENTS) {
      for (const listener of listenersOf(event)) {
        if (!before.get(event)!.has(listener)) process.removeListener(event, listener);
      }
    }
  }
}
