// The text of the small wasm module the kernel pool runs (kernel-pool.ts): kernels that work on
// tfjs-backend-wasm's own shared memory — imported, never written outside the ranges they are given; no
// data, no stack — so that several threads can run one kernel on disjoint parts at once.
// scripts/build-pool-wasm.ts assembles it (wabt) into pool-wasm.generated.ts, once for each kind of memory.
import { ELEMENTWISE_FUNCTIONS, elementwiseWat } from './elementwise-wat.js';
import { FILTER_GRAD_FUNCTIONS, filterGradWat } from './filter-grad-wat.js';
import { FUSED_ADAM_FUNCTION, fusedAdamWat } from './fused-adam-wat.js';
import { FUSED_RMSPROP_FUNCTION, fusedRmsPropWat } from './fused-rmsprop-wat.js';
import { MAX_POOL_GRAD_FUNCTION, maxPoolGradWat } from './max-pool-grad-wat.js';
import { REPEAT_FUNCTION, repeatWat } from './repeat-wat.js';
import { TRANSPOSE_FUNCTION, transposeWat } from './transpose-wat.js';

/** Every exported function, in a fixed order (the index a helper thread is told to run). */
export const POOL_FUNCTIONS: readonly string[] = [...ELEMENTWISE_FUNCTIONS, TRANSPOSE_FUNCTION, ...FILTER_GRAD_FUNCTIONS, MAX_POOL_GRAD_FUNCTION, FUSED_ADAM_FUNCTION, FUSED_RMSPROP_FUNCTION, REPEAT_FUNCTION];

/** The module for a shared memory (threaded wasm) or an unshared one (one thread: no helpers). */
export function poolModuleWat({ shared }: { shared: boolean }): string {
  return `(module
  (import "env" "memory" (memory 1 65536${shared ? ' shared' : ''}))
${elementwiseWat()}
${transposeWat()}
${filterGradWat()}
${maxPoolGradWat()}
${fusedAdamWat()}
${fusedRmsPropWat()}
${repeatWat()}
)
`;
}
