import { decodeHalf, encodeHalf } from '@trainhooks/core-hooks/internal';

/** How one cached row (one sample's activation at a boundary) is laid out in bytes. */
export class RowCodec {
  /** Bytes of one encoded row. */
  readonly rowBytes: number;

  constructor(
    /** Floats per row: the product of the activation's shape after the batch axis. */
    readonly rowLength: number,
    readonly precision: 'fp32' | 'fp16',
  ) {
    this.rowBytes = rowLength * (precision === 'fp16' ? 2 : 4);
  }

  /** Row `row` of `batch` (rows of rowLength floats) as bytes. */
  encode(batch: Float32Array, row: number): Uint8Array {
    const values = batch.subarray(row * this.rowLength, (row + 1) * this.rowLength);
    if (this.precision === 'fp32') return new Uint8Array(values.slice().buffer);
    return new Uint8Array(encodeHalf(values).buffer);
  }

  /** Writes the decoded row into row `row` of `batch`. */
  decode(bytes: Uint8Array, batch: Float32Array, row: number): void {
    const offset = row * this.rowLength;
    if (this.precision === 'fp32') {
      batch.set(new Float32Array(bytes.buffer, bytes.byteOffset, this.rowLength), offset);
    } else {
      decodeHalf(new Uint16Array(bytes.buffer, bytes.byteOffset, this.rowLength), batch, offset);
    }
  }
}
