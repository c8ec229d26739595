// With TRAINHOOKS_WASM_THREADS=N (`npm test` sets 2 for a second pass over test/backend), every test
// file starts the wasm backend with N threads before its tests: their later tf.setBackend('wasm')
// calls then reuse that threaded instance, so every kernel test runs against it.
import { backendInfo, setupBackend } from '@trainhooks/backend';

const threads = Number(process.env.TRAINHOOKS_WASM_THREADS ?? 1);
if (threads > 1) {
  await setupBackend('wasm', { threads, log: () => {}, warn: (message) => console.warn(message) });
  if (backendInfo()?.threads !== threads) throw new Error(`TRAINHOOKS_WASM_THREADS=${threads}, but wasm started with ${backendInfo()?.threads} thread(s)`);
}
