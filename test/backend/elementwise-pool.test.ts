// The elementwise module and the pool that runs it on several threads, on a shared memory of their own
// (no tfjs): every function and operand layout against float32 arithmetic in JavaScript, odd sizes and
// special values included; a failing helper stops the pool with an error instead of hanging; stop()
// ends the helpers. Also: the committed wasm is what the module's text assembles to.
import { describe, expect, it } from 'vitest';
import { seededRandom } from '@trainhooks/cli';
import { ElementwisePool, type CallArguments } from '../../packages/backend/src/wasm-threads/elementwise-pool.js';
import {
  ELEMENTWISE_LAYOUTS,
  ELEMENTWISE_OPS,
  elementwiseFunctionName,
  type ElementwiseLayout,
  type ElementwiseOp,
} from '../../packages/backend/src/wasm-threads/elementwise-wat.js';
import { ELEMENTWISE_WASM_BASE64 } from '../../packages/backend/src/wasm-threads/elementwise-wasm.generated.js';
import { assembleElementwiseWasm } from '../../scripts/assemble-elementwise-wasm.js';

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

describe('elementwise module', () => {
  it('is committed as the assembly of its text (npx tsx scripts/build-elementwise-wasm.ts)', async () => {
    expect(Buffer.from(await assembleElementwiseWasm()).toString('base64')).toBe(ELEMENTWISE_WASM_BASE64);
  });

  for (const helpers of [0, 1, 2]) {
    it(`computes every op and layout like float32 JavaScript with ${helpers} helper thread(s)`, async () => {
      const memory = new WebAssembly.Memory({ initial: 64, maximum: 1024, shared: true });
      const pool = new ElementwisePool(memory, helpers);
      const random = seededRandom(helpers + 1);
      const floats = new Float32Array(memory.buffer);
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
              const chunk = Math.ceil(units / (helpers + 1) / align) * align;
              const parts: CallArguments[] = [];
              for (let first = 0; first < units; first += chunk) {
                const end = Math.min(units, first + chunk);
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

  it('throws instead of hanging when a helper fails, and stays stopped', async () => {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 4, shared: true });
    const pool = new ElementwisePool(memory, 1);
    // The helper's part reads far past the memory: a trap there.
    expect(() => pool.run('add_same', [[0, 0, 64, 4, 0], [2 ** 30, 0, 128, 4, 0]])).toThrow(/helper 0 failed/);
    expect(pool.running).toBe(false);
    expect(() => pool.run('add_same', [[0, 0, 64, 4, 0]])).toThrow();
    await pool.stop();
  });

  it('ends its helpers on stop()', async () => {
    const memory = new WebAssembly.Memory({ initial: 1, maximum: 4, shared: true });
    const pool = new ElementwisePool(memory, 2);
    const workers = (pool as unknown as { helpers: import('node:worker_threads').Worker[] }).helpers;
    const exits = workers.map((worker) => new Promise((resolve) => worker.once('exit', resolve)));
    pool.run('mul_same', [[0, 0, 64, 4, 0], [16, 16, 80, 4, 0], [32, 32, 96, 4, 0]]);
    await pool.stop();
    await Promise.all(exits);
    expect(pool.running).toBe(false);
  });
});
