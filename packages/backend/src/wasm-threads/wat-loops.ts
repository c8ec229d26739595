// The loop shapes the pool module's WAT generators share (one place for the block / loop / br_if
// pattern). Labels are named after the loop: $<label>_done and $<label>_loop.

/** Runs `body` again and again until `exitWhen` (an i32 expression, tested before each pass) holds. */
export function whileLoop(label: string, exitWhen: string, body: string): string {
  return `(block $${label}_done (loop $${label}_loop
      (br_if $${label}_done ${exitWhen})
      ${body}
      (br $${label}_loop)))`;
}

export interface Counter {
  /** The i32 local that counts (without its $), also the loop's label. */
  readonly name: string;
  /** Its first value (an i32 expression). */
  readonly from: string;
  /** The loop ends once the counter reaches this (an i32 expression, evaluated before each pass). */
  readonly to: string;
  /** Added after each pass: a number or an i32 expression (default 1). */
  readonly step?: number | string;
  /** Compare signed (for bounds that can be negative); default unsigned. */
  readonly signed?: boolean;
}

/** for (name = from; name < to; name += step) body */
export function countedLoop({ name, from, to, step = 1, signed = false }: Counter, body: string): string {
  const increment = typeof step === 'number' ? `(i32.const ${step})` : step;
  return `(local.set $${name} ${from})
      ${whileLoop(name, `(i32.ge_${signed ? 's' : 'u'} (local.get $${name}) ${to})`, `${body}
      (local.set $${name} (i32.add (local.get $${name}) ${increment}))`)}`;
}
