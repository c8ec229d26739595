// The kernel pool's module and the pool that runs it on several threads, on a memory of their own (no
// tfjs): every elementwise function and operand layout against float32 arithmetic in JavaScript, odd
// sizes and special values included; the transpose against index arithmetic; a failing helper stops the
// pool with an error instead of hanging; stop() ends the helpers. Also: the committed wasm is what the
// module's text assembles to.
import { describe, expect, it } from 'vitest';
import { seededRandom } from '@trainhooks/cli/internal';
import { KernelPool, partRange, type CallArguments } from '../../packages/backend/src/wasm-threads/kernel-pool.js';
import {
  ELEMENTWISE_LAYOUTS,
  ELEMENTWISE_OPS,
  elementwiseFunctionName,
  type ElementwiseLayout,
  type ElementwiseOp,
} from '../../packages/backend/src/wasm-threads/elementwise-wat.js';
import { POOL_WASM_BASE64, POOL_WASM_SHARED_BASE64 } from '../../packages/backend/src/wasm-threads/pool-wasm.generated.js';
import { TRANSPOSE_FUNCTION } from '../../packages/backend/src/wasm-threads/transpose-wat.js';
import { assemblePoolWasm } from '../../scripts/assemble-pool-wasm.js';

const apply = (op: ElementwiseOp, x: number, y: number) =>
  Math.fround(op === 'mul' ? x * y : op === 'add' ? x + y : op === 'sub' ? x - y : x / y);

/** Expected output of one call, from the operands as float32. */
function expected(op: ElementwiseOp, layout: ElementwiseLayout, x: Float32Array, other: Float32Array, run: number): Float32Array {
  return x.map((value, i) => {
    const y = layout === 'same' ? other[i]! : layout.startsWith('scalar') ? other[0]! : other[i % run]!;
    return layout.endsWith('First') ? apply(op, y, value) : apply(op, value, y);
  });
}

const SPECIAL = [NaN, Infinity, -Infinity, 0, -0, 1e-45, 3.4e38];

describe('kernel pool: elementwise functions', () => {
  it('is committed as the assembly of its text, for both kinds of memory (npx tsx scripts/build-pool-wasm.ts)', async () => {
    expect(Buffer.from(await assemblePoolWasm(true)).toString('base64')).toBe(POOL_WASM_SHARED_BASE64);
    expect(Buffer.from(await assemblePoolWasm(false)).toString('base64')).toBe(POOL_WASM_BASE64);
  });

  for (const [helpers, shared] of [[0, false], [0, true], [1, true], [2, true]] as const) {
    it(`computes every op and layout like float32 JavaScript with ${helpers} helper thread(s), ${shared ? 'shared' : 'unshared'} memory`, async () => {
      const memory = new WebAssembly.Memory({ initial: 64, maximum: 1024, shared });
      const pool = new KernelPool(memory, helpers);
      const random = seededRandom(helpers + 1);
      const floats = new Float32Array(memory.buffer as ArrayBuffer);
      try {
        for (const count of [1, 3, 4, 17, 1000, 4099]) {
          for (const layout of ELEMENTWISE_LAYOUTS) {
            const run = layout.startsWith('row') ? [1, 3, 16, 37][count % 4]! : 1;
            const n = layout.startsWith('row') ? count * run : count;
            const otherCount = layout === 'same' ? n : layout.startsWith('scalar') ? 1 : run;
            // x at 0, the other operand after it, the output after that (byte offsets, 16-aligned).
            const [xAt, otherAt] = [0, 4 * n + 16];
            const outAt = otherAt + 4 * otherCount + 16;
            const x = Float32Array.from({ length: n }, (_, i) => (i % 11 === 5 ? SPECIAL[i % SPECIAL.length]! : random() * 4 - 2));
            const other = Float32Array.from({ length: otherCount }, (_, i) => (i % 7 === 3 ? SPECIAL[i % SPECIAL.length]! : random() * 4 - 2));
            floats.set(x, xAt / 4);
            floats.set(other, otherAt / 4);
            for (const op of Object.keys(ELEMENTWISE_OPS) as ElementwiseOp[]) {
              // Split like the kernels do: elements in multiples of 4, or whole rows.
              const units = layout.startsWith('row') ? count : n;
              const align = layout.startsWith('row') ? 1 : 4;
              const parts: CallArguments[] = [];
              for (let i = 0; i <= helpers; i++) {
                const [first, end] = partRange(units, helpers + 1, i, align);
                if (end <= first) continue;
                const skip = layout.startsWith('row') ? first * run : first;
                const otherPart = layout === 'same' ? otherAt + 4 * skip : otherAt;
                parts.push([xAt + 4 * skip, otherPart, outAt + 4 * skip, end - first, run]);
              }
              floats.fill(12345, outAt / 4, outAt / 4 + n + 4);
              pool.run(elementwiseFunctionName(op, layout), parts);
              const out = floats.slice(outAt / 4, outAt / 4 + n);
              expect(Array.from(out).map(String), `${op} ${layout} n=${n} run=${run}`).toEqual(Array.from(expected(op, layout, x, other, run)).map(String));
              expect(floats[outAt / 4 + n], 'nothing written past the end').toBe(12345);
            }
          }
        }
      } finally {
        await pool.stop();
      }
    });
  }

  it('refuses helpers on an unshared memory', () => {
    expect(() => new KernelPool(new WebAssembly.Memory({ initial: 1, maximum: 4 }), 1)).toThrow(/shared/);
  });

  for (const helpers of [0, 1]) {
    it(`transposes matrices with strides of their own, repeated over an outer axis, exactly (${helpers} helper(s))`, async () => {
      const memory = new WebAssembly.Memory({ initial: 64, maximum: 1024, shared: true });
      const pool = new KernelPool(memory, helpers);
      const random = seededRandom(20 + helpers);
      const ints = new Int32Array(memory.buffer);
      try {
        for (let trial = 0; trial < 40; trial++) {
          const [a, b, outer] = [1 + Math.floor(random() * 37), 1 + Math.floor(random() * 37), 1 + Math.floor(random() * 5)];
          // Row strides at least the row, outer strides at least a whole matrix: padding between them.
          const [xStride, outStride] = [b + Math.floor(random() * 3), a + Math.floor(random() * 3)];
          const [xOuter, outOuter] = [a * xStride + Math.floor(random() * 5), b * outStride + Math.floor(random() * 5)];
          const outAt = 4 * (outer * xOuter + 64);
          const outLength = outer * outOuter + 8;
          // Distinct integers (bit patterns copied as they are), the output prefilled with a marker.
          for (let i = 0; i < outer * xOuter; i++) ints[i] = i + 1;
          ints.fill(-7, outAt / 4, outAt / 4 + outLength);
          const parts: CallArguments[] = [];
          for (let i = 0; i <= helpers; i++) {
            if (outer > helpers) {
              const [first, end] = partRange(outer, helpers + 1, i, 1);
              if (end > first) parts.push([4 * first * xOuter, outAt + 4 * first * outOuter, a, b, xStride, outStride, end - first, xOuter, outOuter]);
            } else {
              const [first, end] = partRange(a, helpers + 1, i, 4);
              if (end > first) parts.push([4 * first * xStride, outAt + 4 * first, end - first, b, xStride, outStride, outer, xOuter, outOuter]);
            }
          }
          pool.run(TRANSPOSE_FUNCTION, parts);
          const expected = new Int32Array(outLength).fill(-7);
          for (let k = 0; k < outer; k++) {
            for (let i = 0; i < a; i++) for (let j = 0; j < b; j++) expected[k * outOuter + j * outStride + i] = ints[k * xOuter + i * xStride + j]!;
          }
          expect(Array.from(ints.subarray(outAt / 4, outAt / 4 + outLength)), `a=${a} b=${b} outer=${outer}`).toEqual(Array.from(expected));
        }
      } finally {
        await pool.stop();
      }
    });
  }

  it('throws instead of hanging when a helper fails, and stays stopped', async () => {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 4, shared: true });
    const pool = new KernelPool(memory, 1);
    // The helper's part reads far past the memory: a trap there.
    expect(() => pool.run('add_same', [[0, 0, 64, 4, 0], [2 ** 30, 0, 128, 4, 0]])).toThrow(/helper 0 failed/);
    expect(pool.running).toBe(false);
    expect(() => pool.run('add_same', [[0, 0, 64, 4, 0]])).toThrow();
    await pool.stop();
  });

  it('waits for its helpers before throwing when the calling thread’s part fails', async () => {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 4, shared: true });
    const pool = new KernelPool(memory, 1);
    const floats = new Float32Array(memory.buffer);
    floats.fill(1, 0, 4096);
    expect(() => pool.run('add_same', [[2 ** 30, 0, 64, 4, 0], [0, 0, 20000, 4096, 0]])).toThrow(/calling thread/);
    // The helper's part was complete when run() threw.
    expect(Array.from(floats.subarray(5000, 5000 + 4096)).every((value) => value === 2)).toBe(true);
    expect(pool.running).toBe(false);
    await pool.stop();
  });

  it('ends its helpers on stop()', async () => {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 4, shared: true });
    const pool = new KernelPool(memory, 2);
    const workers = (pool as unknown as { helpers: import('node:worker_threads').Worker[] }).helpers;
    const exits = workers.map((worker) => new Promise((resolve) => worker.once('exit', resolve)));
    pool.run('mul_same', [[0, 0, 64, 4, 0], [16, 16, 80, 4, 0], [32, 32, 96, 4, 0]]);
    await pool.stop();
    await Promise.all(exits);
    expect(pool.running).toBe(false);
  });
});
