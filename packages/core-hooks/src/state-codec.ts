// One codec for every piece of checkpointed state: plain data becomes a JSON manifest, and each typed
// array in it a binary sidecar the manifest points to (no base64 inside JSON). Numbers JSON cannot hold
// (NaN, ±Infinity, −0) are written as tagged objects, so a state reads back exactly as it was exported.

/** The typed arrays a state may hold; each becomes one sidecar. */
const TYPED_ARRAYS = {
  Float32Array,
  Float64Array,
  Int8Array,
  Int16Array,
  Int32Array,
  Uint8Array,
  Uint16Array,
  Uint32Array,
} as const;
type TypedArrayName = keyof typeof TYPED_ARRAYS;
type AnyTypedArray = InstanceType<(typeof TYPED_ARRAYS)[TypedArrayName]>;

/** A state as written: JSON, plus the bytes of each typed array in the order the JSON refers to them. */
export interface EncodedState {
  readonly json: unknown;
  readonly sidecars: Uint8Array[];
}

function typedArrayName(value: unknown): TypedArrayName | null {
  for (const name of Object.keys(TYPED_ARRAYS) as TypedArrayName[]) if (value instanceof TYPED_ARRAYS[name]) return name;
  return null;
}

/**
 * Plain data (objects, arrays, strings, booleans, null, numbers, typed arrays) to an `EncodedState`.
 * Anything else — a tensor, a Map, a function, a class instance — is refused with its path, so a
 * plugin's state never saves silently incomplete. `undefined` object fields are left out, as in JSON.
 */
export function encodeState(value: unknown, what = 'state'): EncodedState {
  const sidecars: Uint8Array[] = [];
  const walk = (item: unknown, path: string): unknown => {
    if (item === null || typeof item === 'string' || typeof item === 'boolean') return item;
    if (typeof item === 'number') {
      if (Number.isNaN(item)) return { $number: 'NaN' };
      if (item === Infinity) return { $number: 'Infinity' };
      if (item === -Infinity) return { $number: '-Infinity' };
      if (Object.is(item, -0)) return { $number: '-0' };
      return item;
    }
    const typed = typedArrayName(item);
    if (typed) {
      const array = item as AnyTypedArray;
      // A copy: the sidecar must not change if the caller's array does before it is written.
      sidecars.push(new Uint8Array(array.buffer.slice(array.byteOffset, array.byteOffset + array.byteLength)));
      return { $typed: typed, sidecar: sidecars.length - 1, length: array.length };
    }
    if (Array.isArray(item)) return item.map((entry, index) => walk(entry, `${path}[${index}]`));
    if (typeof item === 'object' && Object.getPrototypeOf(item) === Object.prototype) {
      const out: Record<string, unknown> = {};
      for (const [key, entry] of Object.entries(item)) {
        if (key.startsWith('$')) throw new Error(`trainhooks: ${what} cannot be saved: the key ${path}.${key} starts with '$', which the checkpoint format reserves`);
        if (entry !== undefined) out[key] = walk(entry, `${path}.${key}`);
      }
      return out;
    }
    const kind = typeof item === 'object' ? (item as object).constructor?.name ?? 'object' : typeof item;
    throw new Error(`trainhooks: ${what} cannot be saved: ${path} is a ${kind}; a state holds plain data and typed arrays only`);
  };
  return { json: walk(value, what), sidecars };
}

/** The inverse of `encodeState`; a sidecar whose length does not match its reference is an error. */
export function decodeState(encoded: EncodedState, what = 'state'): unknown {
  const walk = (item: unknown, path: string): unknown => {
    if (item === null || typeof item !== 'object') return item;
    if (Array.isArray(item)) return item.map((entry, index) => walk(entry, `${path}[${index}]`));
    const record = item as Record<string, unknown>;
    if (typeof record.$number === 'string') return record.$number === '-0' ? -0 : Number(record.$number);
    if (typeof record.$typed === 'string') {
      const constructor = TYPED_ARRAYS[record.$typed as TypedArrayName];
      const bytes = encoded.sidecars[record.sidecar as number];
      if (!constructor || !bytes) throw new Error(`trainhooks: ${what} is damaged: ${path} refers to a missing ${String(record.$typed)} sidecar ${String(record.sidecar)}`);
      if (bytes.byteLength !== (record.length as number) * constructor.BYTES_PER_ELEMENT) {
        throw new Error(`trainhooks: ${what} is damaged: ${path} should hold ${String(record.length)} values, its sidecar has ${bytes.byteLength} bytes`);
      }
      // Copied into a fresh, aligned buffer: a sidecar read from a file may sit at any offset.
      return new constructor(bytes.slice().buffer);
    }
    const out: Record<string, unknown> = {};
    for (const [key, entry] of Object.entries(record)) out[key] = walk(entry, `${path}.${key}`);
    return out;
  };
  return walk(encoded.json, what);
}
