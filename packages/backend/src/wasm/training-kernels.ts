import type { KernelOverride } from '../kernel-registry.js';
import { wasmCastKernel } from './cast.js';
import { wasmFusedAdamKernel } from './fused-adam.js';
import { wasmFusedBatchNormKernel } from './fused-batch-norm.js';
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
 * backward kernel, (with threaded wasm) the binary arithmetic on every thread, and Adam's update fused
 * into one pass.
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
  wasmFusedAdamKernel,
];
