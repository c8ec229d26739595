import type { KernelOverride } from '../kernel-registry.js';
import { wasmCastKernel } from './cast.js';
import { wasmFusedBatchNormKernel } from './fused-batch-norm.js';
import { WASM_FUSED_OPTIMIZER_KERNELS } from './fused-optimizers.js';
import { wasmIdentityKernel } from './identity.js';
import { wasmMaxPoolGradKernel } from './max-pool-grad.js';
import { wasmMeanKernel } from './mean.js';
import { wasmAddKernel, wasmMultiplyKernel, wasmRealDivKernel, wasmSubKernel } from './channel-broadcast-kernels.js';
import { wasmSumKernel } from './sum.js';
import { wasmTileKernel } from './tile.js';
import { wasmTransposeKernel } from './transpose.js';

/**
 * Kernels a training step leans on that stock wasm runs far below its speed for their work: the tile,
 * leading-axes reductions and per-channel arithmetic of BatchNormalization and bias gradients, the batch
 * norm itself, max-pool gradients, the copies of Identity and same-dtype Cast, the transposes of every
 * backward kernel, (with threaded wasm) the binary arithmetic on every thread, and Adam's and RMSProp's
 * updates fused into one pass each.
 */
export const WASM_TRAINING_KERNELS: readonly KernelOverride[] = [
  wasmTileKernel,
  wasmSumKernel,
  wasmMeanKernel,
  wasmMaxPoolGradKernel,
  wasmFusedBatchNormKernel,
  wasmMultiplyKernel,
  wasmAddKernel,
  wasmSubKernel,
  wasmRealDivKernel,
  wasmIdentityKernel,
  wasmCastKernel,
  wasmTransposeKernel,
  ...WASM_FUSED_OPTIMIZER_KERNELS,
];
