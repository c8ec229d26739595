// Dropout masks as a function of the step. tfjs' Dropout draws its mask from the global random state
// (or, given a seed, draws the same mask on every call); with `dropoutSeed` the trainer gives every
// Dropout layer a seed derived from (dropoutSeed, step, layer) before each step, so a run's masks are
// reproducible and a resumed run draws exactly the masks the uninterrupted one drew.
import type * as tfl from '@tensorflow/tfjs-layers';

/** Layers whose mask tfjs draws with the layer's `seed` field. */
const SEEDABLE = new Set(['Dropout', 'SpatialDropout1D']);
/** Layers that draw noise from the global random state with no seed to set. */
const UNSEEDABLE = new Set(['AlphaDropout', 'GaussianDropout', 'GaussianNoise']);

interface SeededLayer {
  seed?: number;
}

export class DropoutSeeds {
  private constructor(
    /** The run's dropoutSeed. */
    readonly base: number,
    private readonly layers: readonly SeededLayer[],
  ) {}

  /** The model's Dropout layers (nested models included); a noise layer that cannot be seeded is refused by name. */
  static of(model: tfl.LayersModel, base: number): DropoutSeeds {
    const layers: SeededLayer[] = [];
    const visit = (layer: tfl.layers.Layer) => {
      const className = layer.getClassName();
      if (SEEDABLE.has(className)) layers.push(layer as unknown as SeededLayer);
      if (UNSEEDABLE.has(className)) {
        throw new Error(`trainhooks: options.dropoutSeed cannot make the layer ${layer.name} (${className}) reproducible: tfjs draws its noise with no seed`);
      }
      for (const inner of (layer as Partial<tfl.LayersModel>).layers ?? []) visit(inner);
    };
    for (const layer of model.layers) visit(layer);
    return new DropoutSeeds(base, layers);
  }

  /** Sets every Dropout layer's seed for `step`. */
  seedForStep(step: number): void {
    this.layers.forEach((layer, index) => (layer.seed = mixSeed(this.base, step, index)));
  }
}

/** A 32-bit hash of (base, step, index) (murmur3's finaliser over a combined word): nearby steps get unrelated seeds. */
export function mixSeed(base: number, step: number, index: number): number {
  let h = (Math.imul(base | 0, 0x9e3779b1) ^ Math.imul(step | 0, 0x85ebca77) ^ Math.imul(index + 1, 0xc2b2ae3d)) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}
