// Long synchronous tfjs work starves the event loop (timers, I/O, test-runner RPC). Like tfjs'
// `yieldEvery: 'auto'`, give the loop a turn when enough time has passed since the last one.
const YIELD_INTERVAL_MS = 100;
let lastYield = performance.now();

export async function yieldIfDue(): Promise<void> {
  const now = performance.now();
  if (now - lastYield < YIELD_INTERVAL_MS) return;
  await new Promise<void>((resolve) =>
    typeof setImmediate === 'function' ? setImmediate(resolve) : setTimeout(resolve, 0),
  );
  lastYield = performance.now();
}
