// The elementwise module's text (packages/backend) assembled by wabt, with the SIMD and threads features.
import wabtInit from 'wabt';
import { elementwiseWat } from '../packages/backend/src/wasm-threads/elementwise-wat.js';

export async function assembleElementwiseWasm(): Promise<Uint8Array> {
  const wabt = await wabtInit();
  const module = wabt.parseWat('elementwise.wat', elementwiseWat(), { simd: true, threads: true });
  try {
    // (wabt's validate() rejects shared memories even with the threads feature; V8 validates on compile.)
    return new Uint8Array(module.toBinary({}).buffer);
  } finally {
    module.destroy();
  }
}
