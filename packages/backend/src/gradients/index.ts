// Gradients we replace: tfjs' own formulas, rewritten to skip work without changing a bit of the result.
// Gradients are registered per kernel name for every backend at once, so these serve cpu and wasm alike.
import type * as tf from '@tensorflow/tfjs-core';
import { fusedBatchNormGradient } from './fused-batch-norm-gradient.js';
import { meanGradient } from './mean-gradient.js';

export const FAST_GRADIENTS: readonly tf.GradConfig[] = [meanGradient, fusedBatchNormGradient];
