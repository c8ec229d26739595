// Hands every layer its own seed: one shared seed would give equal-shaped layers identical kernels.
import * as tfl from '@tensorflow/tfjs-layers';

type KernelInitializerName = 'glorotUniform' | 'heNormal';
type Initializer = ReturnType<typeof tfl.initializers.glorotUniform>;

/**
 * Returns a factory of kernel initialisers. With a base seed the n-th call is seeded with seed + n, so the
 * weights depend only on the seed and the layer order; without one they are random as usual.
 */
export function kernelInitializers(kind: KernelInitializerName, seed?: number): () => Initializer {
  let layerIndex = 0;
  return () => {
    const layerSeed = seed === undefined ? undefined : seed + layerIndex++;
    return tfl.initializers[kind]({ seed: layerSeed });
  };
}
