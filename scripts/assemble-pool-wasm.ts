// The kernel pool's module text (packages/backend) assembled by wabt, with the SIMD, threads and bulk-memory features.
import wabtInit from 'wabt';
import { poolModuleWat } from '../packages/backend/src/wasm-threads/pool-module-wat.js';

export async function assemblePoolWasm(shared: boolean): Promise<Uint8Array> {
  const wabt = await wabtInit();
  const module = wabt.parseWat('pool.wat', poolModuleWat({ shared }), { simd: true, threads: true, bulk_memory: true });
  try {
    // (wabt's validate() rejects shared memories even with the threads feature; V8 validates on compile.)
    return new Uint8Array(module.toBinary({}).buffer);
  } finally {
    module.destroy();
  }
}
