// Conversions between a tfjs optimizer's getWeights() list and optimizer state kept per variable.
// tfjs lists [iterations, ...first slot of every variable, ...second slot of every variable, …] in the
// order the variables were first updated, and names each slot `${variableName}/${slot}`.
import * as tf from '@tensorflow/tfjs-core';

export type NamedTensor = Awaited<ReturnType<tf.Optimizer['getWeights']>>[number];

/** A tensor as plain data: structured-clone friendly (postMessage, v8.serialize), not tied to a backend. */
export interface SavedTensor {
  readonly name: string;
  readonly shape: number[];
  readonly dtype: 'float32' | 'int32';
  readonly values: Float32Array | Int32Array;
}

/** One variable's optimizer state: its update count and its slots, in the optimizer's slot order. */
export interface VariableSlotState {
  readonly iterations: number;
  readonly slots: SavedTensor[];
  /**
   * Running scalars that getWeights() leaves out: Adam's and Adamax's β powers. setWeights recomputes
   * them as β^(t+1), which differs in the last bits from the running product; restoring them keeps a
   * resumed run bit-identical.
   */
  readonly runningScalars?: Record<string, number>;
}

const RUNNING_SCALARS = ['accBeta1', 'accBeta2'] as const;

async function readRunningScalars(optimizer: tf.Optimizer): Promise<Record<string, number> | undefined> {
  const fields = optimizer as unknown as Record<string, tf.Variable | undefined>;
  const present = RUNNING_SCALARS.filter((name) => fields[name] instanceof tf.Variable);
  if (present.length === 0) return undefined;
  const values = await Promise.all(present.map((name) => fields[name]!.data()));
  return Object.fromEntries(present.map((name, i) => [name, values[i]![0]!]));
}

function writeRunningScalars(optimizer: tf.Optimizer, scalars: Record<string, number> | undefined): void {
  const fields = optimizer as unknown as Record<string, tf.Variable | undefined>;
  for (const [name, value] of Object.entries(scalars ?? {})) {
    const variable = fields[name];
    if (variable instanceof tf.Variable) tf.tidy(() => variable.assign(tf.scalar(value)));
  }
}

/** Optimizers whose arithmetic reads the update count (bias correction, decay); the others ignore it. */
const ITERATION_DEPENDENT = new Set(['Adam', 'Adamax']);

export function dependsOnIterations(optimizer: tf.Optimizer): boolean {
  return ITERATION_DEPENDENT.has(optimizer.getClassName());
}

/** The variable a slot belongs to: tfjs names slots `${variable}/${slot}`. */
export function variableOfSlot(slot: NamedTensor | SavedTensor): string {
  return slot.name.slice(0, slot.name.lastIndexOf('/'));
}

export async function saveTensor(named: NamedTensor): Promise<SavedTensor> {
  const values = await named.tensor.data();
  const dtype = named.tensor.dtype === 'int32' ? 'int32' : 'float32';
  return { name: named.name, shape: [...named.tensor.shape], dtype, values: values.slice() as Float32Array | Int32Array };
}

/**
 * Reads an optimizer's state, split by variable. `updated`: variables it has updated, listed even
 * when the optimizer keeps no slots (SGD). The getWeights() iterations tensor is freed.
 */
export async function readSlotsByVariable(optimizer: tf.Optimizer, updated: readonly string[] = []): Promise<Map<string, VariableSlotState>> {
  const [iterationsTensor, ...slots] = await optimizer.getWeights();
  const iterations = iterationsTensor ? (await iterationsTensor.tensor.data())[0]! : 0;
  iterationsTensor?.tensor.dispose();
  const runningScalars = await readRunningScalars(optimizer);
  const byVariable = new Map<string, SavedTensor[]>(updated.map((name) => [name, []]));
  for (const slot of slots) {
    const name = variableOfSlot(slot);
    if (!byVariable.has(name)) byVariable.set(name, []);
    byVariable.get(name)!.push(await saveTensor(slot));
  }
  return new Map([...byVariable].map(([name, saved]) => [name, { iterations, slots: saved, runningScalars }]));
}

/**
 * Writes per-variable state into `optimizer` in tfjs' positional layout for `names` (the order in
 * which that optimizer will be given the variables). Every variable needs state, all with the same
 * number of slots and — for optimizers that read it — the same update count.
 */
export async function writeSlots(
  optimizer: tf.Optimizer,
  names: readonly string[],
  states: ReadonlyMap<string, VariableSlotState>,
): Promise<void> {
  const missing = names.filter((name) => !states.has(name));
  if (missing.length > 0) {
    throw new Error(`trainhooks: no optimizer state for ${missing.join(', ')}: they have never been updated`);
  }
  const perVariable = names.map((name) => states.get(name)!);
  const slotCount = perVariable[0]?.slots.length ?? 0;
  if (perVariable.some((state) => state.slots.length !== slotCount)) {
    throw new Error('trainhooks: the variables hold different numbers of optimizer slots; their state cannot be merged');
  }
  const counts = new Set(perVariable.map((state) => state.iterations));
  if (counts.size > 1 && dependsOnIterations(optimizer)) {
    throw new Error(
      `trainhooks: ${optimizer.getClassName()} keeps one update count for all variables, but these were updated ` +
        `${[...counts].join(', ')} times (some were skipped); their state cannot be merged exactly`,
    );
  }
  const iterations = Math.max(0, ...counts);
  const tensors: NamedTensor[] = [{ name: 'iter', tensor: tf.scalar(iterations, 'int32') }];
  for (let slot = 0; slot < slotCount; slot++) {
    for (const state of perVariable) {
      const saved = state.slots[slot]!;
      tensors.push({ name: saved.name, tensor: tf.tensor(saved.values, saved.shape, saved.dtype) });
    }
  }
  const previous = await optimizer.getWeights();
  try {
    await optimizer.setWeights(tensors);
    // Equal counts give equal running scalars; any variable's will do.
    writeRunningScalars(optimizer, perVariable[0]?.runningScalars);
  } finally {
    // setWeights makes variables of its own; tfjs does not free the slots it replaced.
    tf.dispose([...tensors, ...previous].map((named) => named.tensor));
  }
}
