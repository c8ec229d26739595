// The one way our kernels free their intermediates.
//
// Our kernels compose the backend's own kernels, run directly (callKernel: no engine, no tracking), so
// nothing frees what they make but us. A KernelScope owns every tensor made through it and frees them
// all when the kernel returns (runScoped), except the result, whatever happens. A helper that makes
// intermediates runs in a nested scope (`scoped`), which frees them as soon as the helper returns, like
// tf.tidy. Backend-neutral: a scope runs the kernels of the backend it was made for.
import type * as tf from '@tensorflow/tfjs-core';
import { callKernel, callStockKernel } from './kernel-registry.js';

type Info = tf.TensorInfo;
type Pair = [number, number];

/**
 * The intermediates of one kernel call (or of one helper inside it). Every tensor made through it is
 * remembered and freed by `dispose` (what `runScoped` and `scoped` call on the way out, like a `using`
 * block), except the result. Shortcuts return their input unchanged when the op would be a no-op, so
 * no copy is made.
 */
export class KernelScope {
  private readonly owned: Info[] = [];

  constructor(
    readonly backend: tf.KernelBackend,
    readonly backendName: string,
    private readonly parent?: KernelScope,
  ) {}

  /** Runs a kernel of this backend and takes ownership of its output. */
  run(kernelName: string, inputs: tf.NamedTensorInfoMap, attrs: tf.NamedAttrMap = {}): Info {
    return this.adopt(callKernel(kernelName, this.backend, this.backendName, inputs, attrs));
  }

  /** Like `run`, but runs the stock kernel that one of ours replaced. */
  runStock(kernelName: string, inputs: tf.NamedTensorInfoMap, attrs: tf.NamedAttrMap = {}): Info {
    return this.adopt(callStockKernel(kernelName, this.backend, this.backendName, inputs, attrs));
  }

  /** Takes ownership of a tensor the backend allocated directly (not through `run`). */
  adopt(info: Info): Info {
    this.owned.push(info);
    return info;
  }

  owns(info: Info): boolean {
    return this.owned.includes(info);
  }

  /**
   * Runs `body` in a nested scope: what it makes is freed when it returns (or throws), except its
   * result, which this scope then owns.
   */
  scoped(body: (scope: KernelScope) => Info): Info {
    const inner = new KernelScope(this.backend, this.backendName, this);
    let result: Info | undefined;
    try {
      result = body(inner);
      if (inner.owns(result)) this.owned.push(result);
      return result;
    } finally {
      inner.dispose(result);
    }
  }

  /**
   * Moves an intermediate of an enclosing scope into this one, so it is freed when this scope ends: a
   * loop's running total, freed as soon as the next one is made.
   */
  take(info: Info): Info {
    for (let scope = this.parent; scope; scope = scope.parent) {
      const at = scope.owned.indexOf(info);
      if (at >= 0) {
        scope.owned.splice(at, 1);
        return this.adopt(info);
      }
    }
    throw new Error('trainhooks: KernelScope.take needs an intermediate of an enclosing scope');
  }

  /** Frees every intermediate except `keep` (by identity: a reshape shares its data but holds its own reference). */
  dispose(keep?: Info): void {
    for (const info of this.owned) if (info !== keep) this.backend.disposeData(info.dataId);
    this.owned.length = 0;
  }

  reshape(x: Info, shape: number[]): Info {
    if (sameShape(x.shape, shape)) return x;
    return this.run('Reshape', { x }, { shape });
  }

  /**
   * Transpose that first drops size-1 axes and merges axes that stay neighbours, so the backend's
   * kernel sees the lowest rank possible (tfjs-wasm has fast paths up to rank 4 only; above it
   * walks element by element through index vectors). A permutation that only moves size-1 axes is
   * a free reshape.
   */
  transpose(x: Info, perm: number[]): Info {
    const outShape = perm.map((axis) => x.shape[axis]);
    const { shape, perm: reduced } = reducePermutation(x.shape, perm);
    if (reduced.every((axis, i) => axis === i)) return this.reshape(x, outShape);
    const moved = this.run('Transpose', { x: this.reshape(x, shape) }, { perm: reduced });
    return this.reshape(moved, outShape);
  }

  /** Zero padding; `paddings` has one [before, after] per axis, all ≥ 0. */
  pad(x: Info, paddings: Pair[]): Info {
    if (paddings.every(([a, b]) => a === 0 && b === 0)) return x;
    return this.run('PadV2', { x }, { paddings, constantValue: 0 });
  }

  slice(x: Info, begin: number[], size: number[]): Info {
    if (begin.every((b) => b === 0) && sameShape(x.shape, size)) return x;
    return this.run('Slice', { x }, { begin, size });
  }

  /**
   * Reverses axes `dims`. Reversing consecutive axes together is reversing their flattened index,
   * which is a horizontal image flip of a [outer, 1, run, inner] view: FlipLeftRight copies whole
   * pixels, ~50× faster than tfjs-wasm's element-wise Reverse (which this falls back to for
   * non-float32 tensors).
   */
  reverse(x: Info, dims: number[]): Info {
    const axes = [...new Set(dims.filter((axis) => x.shape[axis] > 1))].sort((a, b) => a - b);
    if (axes.length === 0) return x;
    if (x.dtype !== 'float32') return this.run('Reverse', { x }, { dims: axes });
    let result = x;
    for (let i = 0; i < axes.length; ) {
      let j = i;
      while (j + 1 < axes.length && (axes[j + 1] === axes[j] + 1 || sizeOf(x.shape.slice(axes[j] + 1, axes[j + 1])) === 1)) j++;
      const [first, last] = [axes[i], axes[j]];
      const image = this.reshape(result, [
        sizeOf(x.shape.slice(0, first)),
        1,
        sizeOf(x.shape.slice(first, last + 1)),
        sizeOf(x.shape.slice(last + 1)),
      ]);
      result = this.reshape(this.run('FlipLeftRight', { image }), x.shape);
      i = j + 1;
    }
    return result;
  }

  sum(x: Info, axis: number[]): Info {
    if (axis.every((a) => x.shape[a] === 1)) {
      return this.reshape(x, x.shape.filter((_, i) => !axis.includes(i)));
    }
    return this.run('Sum', { x }, { axis, keepDims: false });
  }

  zeros(shape: number[]): Info {
    return this.run('Fill', {}, { shape, value: 0, dtype: 'float32' });
  }
}

/**
 * Runs `body`, one kernel's work on `backendName`, with a fresh scope and frees its intermediates
 * whatever happens. The result always holds its own reference: if `body` returns one of the kernel's
 * inputs (or a shortcut of one), it is re-referenced through a Reshape so the engine never shares a
 * data id it does not know about.
 */
export function runScoped(backend: tf.KernelBackend, backendName: string, body: (scope: KernelScope) => Info): Info {
  const scope = new KernelScope(backend, backendName);
  let result: Info | undefined;
  try {
    result = body(scope);
    if (!scope.owns(result)) {
      result = callKernel('Reshape', backend, backendName, { x: result }, { shape: result.shape });
    }
    return result;
  } finally {
    scope.dispose(result);
  }
}

/**
 * Drops size-1 axes and merges runs of axes that are consecutive in both the input and the output,
 * e.g. [N, H, W, C] with perm [1, 2, 0, 3] becomes [N, H·W, C] with perm [1, 0, 2].
 */
export function reducePermutation(inShape: readonly number[], perm: readonly number[]): { shape: number[]; perm: number[] } {
  const kept = perm.filter((axis) => inShape[axis] !== 1);
  // Runs of input axes that appear consecutively (and in order) in the output.
  const groups: number[][] = [];
  for (const axis of kept) {
    const last = groups[groups.length - 1];
    if (last && last[last.length - 1] + nextKept(inShape, last[last.length - 1]) === axis) last.push(axis);
    else groups.push([axis]);
  }
  // Order the groups by their position in the input to get the merged input shape.
  const byInput = [...groups].sort((a, b) => a[0] - b[0]);
  const shape = byInput.map((group) => group.reduce((size, axis) => size * inShape[axis], 1));
  const reduced = groups.map((group) => byInput.indexOf(group));
  return { shape, perm: reduced };
}

/** Distance from `axis` to the next input axis that is not of size 1. */
function nextKept(inShape: readonly number[], axis: number): number {
  let step = 1;
  while (axis + step < inShape.length && inShape[axis + step] === 1) step++;
  return step;
}

function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}
