// Argument checks of fit, fitDataset and evaluate: the ones tfjs-layers does, plus those it lets
// through silently (epochs NaN, a validation split outside (0, 1)). Every refusal names the argument,
// the value and what is allowed.
import type * as tf from '@tensorflow/tfjs-core';

/** The shapes a model declares, batch dimension first (null: any size). */
export interface DeclaredShapes {
  readonly input: ReadonlyArray<number | null>;
  /** null where the loss does not pin the target's shape (sparse labels, a custom loss). */
  readonly target: ReadonlyArray<number | null> | null;
}

export function fail(argument: string, value: unknown, allowed: string): never {
  throw new Error(`trainhooks: ${argument} must be ${allowed}, got ${describeValue(value)}`);
}

/** A value as a refusal message shows it: strings quoted, arrays listed, objects by class. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return `'${value}'`;
  if (Array.isArray(value)) return `[${value.map(describeValue).join(', ')}]`;
  if (value === null || typeof value !== 'object') return String(value);
  return (value as object).constructor?.name ?? 'an object';
}

export function checkPositiveInteger(argument: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value <= 0) fail(argument, value, 'a positive integer');
  return value;
}

export function checkNonNegativeInteger(argument: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0) fail(argument, value, 'an integer ≥ 0');
  return value;
}

export function checkBoolean(argument: string, value: unknown): boolean {
  if (typeof value !== 'boolean') fail(argument, value, 'true or false');
  return value;
}

export function checkVerbose(argument: string, value: unknown): 0 | 1 {
  if (value !== 0 && value !== 1) fail(argument, value, '0 or 1');
  return value;
}

export function checkTensor(argument: string, value: unknown): tf.Tensor {
  const tensor = value as tf.Tensor | null;
  if (tensor === null || typeof tensor !== 'object' || !Array.isArray(tensor.shape) || typeof tensor.dataId !== 'object') {
    fail(argument, value, 'one tf.Tensor (several inputs or outputs are not supported)');
  }
  if (tensor.isDisposed) fail(argument, 'a disposed tensor', 'a live tf.Tensor');
  if (tensor.rank < 1) fail(`${argument}.shape`, tensor.shape, 'at least one dimension (the samples)');
  return tensor;
}

/** x and y: single tensors, the same number of samples, the shapes the model declares. */
export function checkSamples(
  names: readonly [string, string],
  x: unknown,
  y: unknown,
  declared: DeclaredShapes | null,
): number {
  const xs = checkTensor(names[0], x);
  const ys = checkTensor(names[1], y);
  if (xs.shape[0] !== ys.shape[0]) {
    throw new Error(
      `trainhooks: ${names[0]} and ${names[1]} must have the same number of samples, got ${xs.shape[0]} and ${ys.shape[0]}`,
    );
  }
  if (declared) {
    checkShape(names[0], xs.shape, declared.input);
    if (declared.target) checkShape(names[1], ys.shape, declared.target);
  }
  return xs.shape[0]!;
}

function checkShape(argument: string, shape: readonly number[], declared: ReadonlyArray<number | null>): void {
  const fits = shape.length === declared.length && declared.every((size, i) => i === 0 || size === null || size === shape[i]);
  if (!fits) fail(`${argument}.shape`, shape, `[samples, ${declared.slice(1).map((d) => d ?? 'any').join(', ')}] (the model's shape)`);
}

/** Each callback: an object whose on… members are functions (tfjs' CustomCallbackArgs or a tf.Callback). */
export function checkCallbacks(argument: string, value: unknown): void {
  if (value === undefined) return;
  const list = Array.isArray(value) ? value : [value];
  list.forEach((callback, index) => {
    const name = Array.isArray(value) ? `${argument}[${index}]` : argument;
    if (callback === null || typeof callback !== 'object') fail(name, callback, 'an object with onEpochEnd, onBatchEnd… methods');
    for (const [key, member] of Object.entries(callback as object)) {
      if (/^on[A-Z]/.test(key) && member !== undefined && typeof member !== 'function') {
        fail(`${name}.${key}`, member, 'a function');
      }
    }
  });
}

/** Refuses option names the loop does not know, so a typo is not silently ignored. */
export function checkKnownOptions(argument: string, options: object, known: readonly string[], unsupported: Record<string, string> = {}): void {
  for (const key of Object.keys(options)) {
    if ((options as Record<string, unknown>)[key] === undefined) continue;
    if (key in unsupported) throw new Error(`trainhooks: ${argument}.${key} is not supported: ${unsupported[key]}`);
    if (!known.includes(key)) fail(`${argument}.${key}`, key, `one of the known options (${known.join(', ')})`);
  }
}
