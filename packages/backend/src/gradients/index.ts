// Gradients we replace: tfjs' own formulas, rewritten to skip work (Mean's bit-identical, FusedBatchNorm's
// regrouped: equal to rounding). tfjs registers gradients per kernel name for every backend at once, so
// these serve cpu, wasm and tfjs-node alike.
import type * as tf from '@tensorflow/tfjs-core';
import { fusedBatchNormGradient } from './fused-batch-norm-gradient.js';
import { meanGradient } from './mean-gradient.js';

export const FAST_GRADIENTS: readonly tf.GradConfig[] = [meanGradient, fusedBatchNormGradient];
