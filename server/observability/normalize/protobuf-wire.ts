// The protobuf wire format, as far as OTLP needs it: a reader that walks
// the fields of one message and a writer for small answers. Field types
// and names live with the message definitions (otlp-protobuf.ts); this
// module knows only tags, varints, fixed-width numbers and lengths.

export const WireType = {
  varint: 0,
  fixed64: 1,
  bytes: 2,
  groupStart: 3,
  groupEnd: 4,
  fixed32: 5,
} as const;

/** Bytes that are not a protobuf message: cut short, or with a tag or
 * length no encoder writes. `offset` counts from the start of the body. */
export class MalformedProtobuf extends Error {
  /** The list entry the fault lies in, once a caller names it. */
  path?: string;

  constructor(
    readonly reason: string,
    readonly offset: number,
  ) {
    super(`${reason} at byte ${offset}`);
  }
}

export interface Field {
  number: number;
  wireType: number;
  /** Where the field's tag starts in the whole body. */
  offset: number;
}

// A string that starts with U+FEFF keeps it, as JSON.parse keeps it.
const utf8 = new TextDecoder("utf-8", { ignoreBOM: true });

/** Reads the fields of one message from `bytes[start, end)`. */
export class WireReader {
  private pos: number;

  constructor(
    private readonly bytes: Uint8Array,
    start = 0,
    private readonly end = bytes.length,
  ) {
    this.pos = start;
  }

  /** The next field's tag, or null at the end of the message. */
  next(): Field | null {
    if (this.pos >= this.end) return null;
    const offset = this.pos;
    const tag = this.varint();
    const number = Math.floor(tag / 8);
    const wireType = tag % 8;
    if (number === 0 || number > 0x1fffffff) {
      throw new MalformedProtobuf(`invalid field number ${number}`, offset);
    }
    if (wireType > WireType.fixed32) {
      throw new MalformedProtobuf(`invalid wire type ${wireType}`, offset);
    }
    if (wireType === WireType.groupEnd) {
      throw new MalformedProtobuf("group end without a group start", offset);
    }

    return { number, wireType, offset };
  }

  /** An unsigned varint up to 2^53, as a number (tags and lengths).
   * Larger values are refused rather than rounded. */
  varint(): number {
    const start = this.pos;
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.end) {
        throw new MalformedProtobuf("varint cut short", start);
      }
      const byte = this.bytes[this.pos++];
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) {
        if (value > Number.MAX_SAFE_INTEGER) {
          throw new MalformedProtobuf("varint out of range", start);
        }

        return value;
      }
      scale *= 128;
    }
    throw new MalformedProtobuf("varint longer than 10 bytes", start);
  }

  /** A varint as the 64 bits it encodes (int64, uint64). */
  varint64(): bigint {
    const start = this.pos;
    let value = 0n;
    for (let shift = 0n; shift < 70n; shift += 7n) {
      if (this.pos >= this.end) {
        throw new MalformedProtobuf("varint cut short", start);
      }
      const byte = this.bytes[this.pos++];
      value |= BigInt(byte & 0x7f) << shift;
      if (byte < 0x80) return BigInt.asUintN(64, value);
    }
    throw new MalformedProtobuf("varint longer than 10 bytes", start);
  }

  /** An int32 varint (enums); negative values come sign-extended. */
  int32(): number {
    return Number(BigInt.asIntN(32, this.varint64()));
  }

  /** A uint32 varint (counts). */
  uint32(): number {
    return Number(BigInt.asUintN(32, this.varint64()));
  }

  /** Eight little-endian bytes as an unsigned 64-bit integer. */
  fixed64(): bigint {
    const start = this.take(8);

    return new DataView(
      this.bytes.buffer,
      this.bytes.byteOffset + start,
      8,
    ).getBigUint64(0, true);
  }

  /** Eight little-endian bytes as an IEEE 754 double. */
  double(): number {
    const start = this.take(8);

    return new DataView(
      this.bytes.buffer,
      this.bytes.byteOffset + start,
      8,
    ).getFloat64(0, true);
  }

  /** Four little-endian bytes as an unsigned 32-bit integer. */
  fixed32(): number {
    const start = this.take(4);

    return new DataView(
      this.bytes.buffer,
      this.bytes.byteOffset + start,
      4,
    ).getUint32(0, true);
  }

  /** A length-delimited field's bounds, leaving the reader after it. */
  span(): { start: number; end: number } {
    const at = this.pos;
    const length = this.varint();
    if (length > this.end - this.pos) {
      throw new MalformedProtobuf(
        `length ${length} runs past the end of the message`,
        at,
      );
    }
    const start = this.pos;
    this.pos += length;

    return { start, end: this.pos };
  }

  bytesField(): Uint8Array {
    const { start, end } = this.span();

    return this.bytes.subarray(start, end);
  }

  /** A string field; bytes that are not UTF-8 read as U+FFFD. */
  string(): string {
    return utf8.decode(this.bytesField());
  }

  /** A reader over an embedded message. */
  message(): WireReader {
    const { start, end } = this.span();

    return new WireReader(this.bytes, start, end);
  }

  /** Skips a field this decoder does not read, by its wire type. */
  skip(field: Field): void {
    switch (field.wireType) {
      case WireType.varint:
        this.varint64();
        return;
      case WireType.fixed64:
        this.take(8);
        return;
      case WireType.bytes:
        this.span();
        return;
      case WireType.fixed32:
        this.take(4);
        return;
      case WireType.groupStart:
        this.skipGroup(field);
        return;
    }
  }

  // Groups (a proto2 feature no OTLP message uses) are skipped with a
  // counter, not recursion, so nesting cannot exhaust the stack.
  private skipGroup(start: Field): void {
    let open = 1;
    while (open > 0) {
      if (this.pos >= this.end) {
        throw new MalformedProtobuf(
          `group ${start.number} is not closed`,
          start.offset,
        );
      }
      const tag = this.varint();
      const wireType = tag % 8;
      if (wireType === WireType.groupStart) open += 1;
      else if (wireType === WireType.groupEnd) open -= 1;
      else if (wireType > WireType.fixed32) {
        throw new MalformedProtobuf(`invalid wire type ${wireType}`, this.pos);
      } else this.skip({ number: 0, wireType, offset: this.pos });
    }
  }

  private take(length: number): number {
    if (this.end - this.pos < length) {
      throw new MalformedProtobuf(`${length}-byte value cut short`, this.pos);
    }
    const start = this.pos;
    this.pos += length;

    return start;
  }
}

/** Writes one message. Embedded messages are written to their own writer
 * first, so their length is known before it is written. */
export class WireWriter {
  private readonly chunks: number[] = [];

  private varint(value: number | bigint): void {
    let v = BigInt.asUintN(64, BigInt(value));
    while (v >= 0x80n) {
      this.chunks.push(Number(v & 0x7fn) | 0x80);
      v >>= 7n;
    }
    this.chunks.push(Number(v));
  }

  private tag(number: number, wireType: number): void {
    this.varint(number * 8 + wireType);
  }

  int64(number: number, value: number | bigint): this {
    this.tag(number, WireType.varint);
    this.varint(value);

    return this;
  }

  string(number: number, value: string): this {
    return this.bytes(number, new TextEncoder().encode(value));
  }

  bytes(number: number, value: Uint8Array): this {
    this.tag(number, WireType.bytes);
    this.varint(value.length);
    for (const byte of value) this.chunks.push(byte);

    return this;
  }

  message(number: number, value: WireWriter): this {
    return this.bytes(number, value.finish());
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.chunks);
  }
}
