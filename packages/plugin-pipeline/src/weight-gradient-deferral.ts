// Weight gradients of matrix products, put off to one product per batch (the B/W split of zero-bubble
// pipelines). A micro-batch's backward needs only the input gradient dy·Wᵀ to go on; the weight
// gradient xᵀ·dy can wait. Computed per micro-batch it is a product with an inner dimension of the
// micro-batch size that writes a whole weight-sized output each time, then another weight-sized sum:
// for `mlp` at micro-batches of 32 that made a stage's backward 1.9× as costly per sample as one
// full-batch backward. Keeping each micro-batch's x and dy and computing xᵀ·dy once over the rows
// of all of them is the same sum (up to float rounding) at the full-batch cost.
import * as tf from '@tensorflow/tfjs-core';
import type { TapeNode } from './deferred-tape.js';

interface KeptPair {
  readonly input: tf.Tensor;
  readonly outputGradient: tf.Tensor;
}

export class WeightGradientDeferral {
  private readonly kept = new Map<number, KeptPair[]>();
  /** Products deferred since construction (computed or not). */
  deferredProducts = 0;

  /** `variableIds`: the variables whose gradients may wait (a stage's trained variables). */
  constructor(private readonly variableIds: ReadonlySet<number>) {}

  /**
   * Whether the gradient of `node`'s input `name` is a weight gradient this can put off: the `b` of
   * a plain 2-D matMul(x, W) (tfjs-layers' Dense on the tape; the fused, linear-activation path is
   * one opaque customGrad node and is left alone).
   */
  accepts(node: TapeNode, name: string): boolean {
    if (node.kernelName !== 'BatchMatMul' || name !== 'b') return false;
    const { a, b } = node.inputs;
    if (!a || !b || a.rank !== 2 || b.rank !== 2 || !this.variableIds.has(b.id)) return false;
    // The tape keeps x as the kernel's saved copy (its own input tensor is long freed).
    if (node.saved?.[0]?.rank !== 2 || node.saved[0].size !== a.size) return false;
    return node.attrs?.['transposeA'] === false && node.attrs?.['transposeB'] === false;
  }

  /** Keeps x and dy of one product (they outlive the tidy of the backward that calls this). */
  defer(node: TapeNode, outputGradient: tf.Tensor): void {
    const variableId = node.inputs['b']!.id;
    const pairs = this.kept.get(variableId) ?? [];
    this.deferredProducts++;
    pairs.push({ input: tf.keep(node.saved![0]!.clone()), outputGradient: tf.keep(outputGradient.clone()) });
    this.kept.set(variableId, pairs);
  }

  /** Σ xᵀ·dy over everything deferred, one product per variable id; frees what was kept. */
  compute(): Map<number, tf.Tensor> {
    const gradients = new Map<number, tf.Tensor>();
    for (const [variableId, pairs] of this.kept) {
      gradients.set(
        variableId,
        tf.tidy(() => {
          const input = pairs.length === 1 ? pairs[0]!.input : tf.concat(pairs.map((pair) => pair.input), 0);
          const outputGradient = pairs.length === 1 ? pairs[0]!.outputGradient : tf.concat(pairs.map((pair) => pair.outputGradient), 0);
          return tf.matMul(input, outputGradient, true, false);
        }),
      );
    }
    this.dispose();
    return gradients;
  }

  /** Frees what was kept without computing (a failed step). */
  dispose(): void {
    for (const pairs of this.kept.values()) for (const pair of pairs) tf.dispose([pair.input, pair.outputGradient]);
    this.kept.clear();
  }
}
