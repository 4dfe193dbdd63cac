import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { encodeSafetensors, parseSafetensors, DEFAULT_MAX_HEADER_BYTES } from '../dist/safetensors.js';
import type { Tensor } from '../dist/safetensors.js';
import { WeightsError } from '../dist/errors.js';
import { mulberry32 } from './helpers/rng.mjs';

// ---------------------------------------------------------------------------------------------------
// helpers

/** Build a safetensors file from a header (object or raw JSON text) and raw data bytes. */
function build(header: unknown, data: Uint8Array | number[] = [], opts: { rawHeader?: Uint8Array } = {}): Uint8Array {
  const hb = opts.rawHeader ?? new TextEncoder().encode(typeof header === 'string' ? header : JSON.stringify(header));
  const d = data instanceof Uint8Array ? data : new Uint8Array(data);
  const out = new Uint8Array(8 + hb.length + d.length);
  new DataView(out.buffer).setBigUint64(0, BigInt(hb.length), true);
  out.set(hb, 8);
  out.set(d, 8 + hb.length);
  return out;
}

function f32Bytes(values: number[]): Uint8Array {
  return new Uint8Array(new Float32Array(values).buffer);
}

function u16Bytes(values: number[]): Uint8Array {
  const b = new Uint8Array(2 * values.length);
  const v = new DataView(b.buffer);
  values.forEach((x, i) => v.setUint16(2 * i, x, true));
  return b;
}

function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
}

/** fn must throw a WeightsError whose message matches re. */
function expectWeightsError(fn: () => unknown, re: RegExp): WeightsError {
  const e = caught(fn);
  expect(e, 'expected a WeightsError to be thrown').toBeInstanceOf(WeightsError);
  const we = e as WeightsError;
  expect(we.code).toBe('ERR_WEIGHTS');
  expect(we.name).toBe('WeightsError');
  expect(we.message).toMatch(re);
  return we;
}

/** Either parses or throws a WeightsError — never anything else. */
function parsesOrWeightsError(bytes: Uint8Array): 'ok' | 'error' {
  const e = caught(() => parseSafetensors(bytes));
  if (e === undefined) return 'ok';
  if (!(e instanceof WeightsError)) {
    throw new Error(`expected WeightsError, got ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}`);
  }
  return 'error';
}


function bitsOf(a: Float32Array): Uint32Array {
  return new Uint32Array(a.buffer, a.byteOffset, a.length);
}

function sampleTensors(): Map<string, Tensor> {
  const rnd = mulberry32(1);
  const mk = (shape: number[]): Tensor => {
    const n = shape.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = (rnd() - 0.5) * 10;
    return { shape, data };
  };
  return new Map<string, Tensor>([
    ['conv/weight', mk([4, 3, 3, 2])],
    ['conv/bias', mk([4])],
    ['fc/weight', mk([5, 7])],
    ['scalar', mk([])],
    ['empty', mk([0])],
    ['empty2', mk([3, 0, 2])],
    ['z/last', mk([2, 3])],
  ]);
}

// ---------------------------------------------------------------------------------------------------

describe('encodeSafetensors / parseSafetensors round trip', () => {
  it('reproduces every tensor bit for bit, with shapes incl. scalar [] and zero-size', () => {
    const tensors = sampleTensors();
    const special = new Float32Array([0, -0, 1, -1, 1.401298464324817e-45, -3.4028234663852886e38, 3.4028234663852886e38, 1e-40, Math.PI]);
    tensors.set('special', { shape: [3, 3], data: special });
    const meta = { source: 'unit test', 'unicode ✓': 'λ → ∞' };
    const bytes = encodeSafetensors(tensors, meta);
    const parsed = parseSafetensors(bytes);
    expect(parsed.metadata).toEqual(meta);
    expect([...parsed.tensors.keys()].sort()).toEqual([...tensors.keys()].sort());
    for (const [name, t] of tensors) {
      const u = parsed.tensors.get(name)!;
      expect(u.shape, name).toEqual(t.shape);
      expect(u.data).toBeInstanceOf(Float32Array);
      expect(u.data.length, name).toBe(t.data.length);
      expect([...bitsOf(u.data)], name).toEqual([...bitsOf(t.data)]);
    }
    expect(parsed.tensors.get('scalar')!.shape).toEqual([]);
    expect(parsed.tensors.get('scalar')!.data.length).toBe(1);
    expect(parsed.tensors.get('empty')!.data.length).toBe(0);
    expect(parsed.tensors.get('empty2')!.shape).toEqual([3, 0, 2]);
    expect(Object.is(parsed.tensors.get('special')!.data[1], -0)).toBe(true);
  });

  it('accepts a plain object as well as a Map, and no metadata', () => {
    const bytes = encodeSafetensors({ b: { shape: [2], data: new Float32Array([1, 2]) }, a: { shape: [], data: new Float32Array([3]) } });
    const parsed = parseSafetensors(bytes);
    expect(parsed.metadata).toEqual({});
    expect([...parsed.tensors.get('b')!.data]).toEqual([1, 2]);
    expect([...parsed.tensors.get('a')!.data]).toEqual([3]);
  });

  it('round-trips an empty file (no tensors)', () => {
    const parsed = parseSafetensors(encodeSafetensors(new Map()));
    expect(parsed.tensors.size).toBe(0);
  });

  it('writes the documented layout: 8-byte aligned space-padded header, sorted names, contiguous offsets', () => {
    const bytes = encodeSafetensors(sampleTensors(), { k: 'v' });
    const hl = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    expect(hl % 8).toBe(0);
    const text = new TextDecoder().decode(bytes.subarray(8, 8 + hl));
    expect(text).toMatch(/^\{.*\} *$/s);
    const header = JSON.parse(text);
    expect(header.__metadata__).toEqual({ k: 'v' });
    const names = Object.keys(header).filter((k) => k !== '__metadata__');
    expect(names).toEqual([...names].sort());
    let off = 0;
    for (const n of names) {
      expect(header[n].dtype).toBe('F32');
      expect(header[n].data_offsets[0]).toBe(off);
      off = header[n].data_offsets[1];
    }
    expect(bytes.length).toBe(8 + hl + off);
  });

  it('is deterministic (same input, same bytes, whatever the insertion order)', () => {
    const t = sampleTensors();
    const reversed = new Map([...t.entries()].reverse());
    expect(encodeSafetensors(t, { a: 'b' })).toEqual(encodeSafetensors(reversed, { a: 'b' }));
  });

  it('parses from an unaligned view and from a Node Buffer', () => {
    const bytes = encodeSafetensors(sampleTensors());
    const shifted = new Uint8Array(bytes.length + 3);
    shifted.set(bytes, 3);
    for (const view of [shifted.subarray(3), Buffer.from(bytes)]) {
      const parsed = parseSafetensors(view);
      for (const [name, t] of sampleTensors()) {
        expect([...bitsOf(parsed.tensors.get(name)!.data)], name).toEqual([...bitsOf(t.data)]);
      }
    }
  });

  it('parsed tensors do not alias the input bytes', () => {
    const bytes = encodeSafetensors({ a: { shape: [2], data: new Float32Array([1, 2]) } });
    const parsed = parseSafetensors(bytes);
    bytes.fill(0, 8);
    expect([...parsed.tensors.get('a')!.data]).toEqual([1, 2]);
  });

  it('copy: false gives views of aligned F32 data, and still correct copies of unaligned data', () => {
    const bytes = encodeSafetensors(sampleTensors());
    const shifted = new Uint8Array(bytes.length + 3);
    shifted.set(bytes, 3);
    for (const view of [bytes, shifted.subarray(3)]) {
      const parsed = parseSafetensors(view, { copy: false });
      for (const [name, t] of sampleTensors()) {
        expect([...bitsOf(parsed.tensors.get(name)!.data)], name).toEqual([...bitsOf(t.data)]);
      }
    }
    const one = encodeSafetensors({ a: { shape: [2], data: new Float32Array([1, 2]) } });
    const aliased = parseSafetensors(one, { copy: false }).tensors.get('a')!.data;
    expect(aliased.buffer).toBe(one.buffer);
    one.fill(0, 8);
    expect([...aliased]).toEqual([0, 0]);
  });

  it('the encoder refuses data/shape mismatches and a tensor named __metadata__', () => {
    expectWeightsError(() => encodeSafetensors({ a: { shape: [3], data: new Float32Array(2) } }), /"a".*2 values.*\[3\]/);
    expectWeightsError(() => encodeSafetensors({ a: { shape: [-1, -2], data: new Float32Array(2) } }), /"a".*invalid shape/);
    expectWeightsError(() => encodeSafetensors({ __metadata__: { shape: [1], data: new Float32Array(1) } }), /__metadata__/);
  });
});

describe('F16 and BF16 decoding', () => {
  it('decodes F16 bit patterns to the exact values', () => {
    const cases: Array<[number, number]> = [
      [0x0000, 0],
      [0x3c00, 1],
      [0xbc00, -1],
      [0xc000, -2],
      [0x4000, 2],
      [0x3800, 0.5],
      [0x3555, (1 + 341 / 1024) / 4], // 0.333251953125
      [0x4248, (1 + 584 / 1024) * 2], // 3.140625
      [0x7bff, 65504], // largest finite half
      [0x0400, 2 ** -14], // smallest normal
      [0x0001, 2 ** -24], // smallest subnormal
      [0x03ff, 1023 * 2 ** -24], // largest subnormal
      [0x8001, -(2 ** -24)],
    ];
    const bytes = build({ h: { dtype: 'F16', shape: [cases.length], data_offsets: [0, 2 * cases.length] } }, u16Bytes(cases.map((c) => c[0])));
    const data = parseSafetensors(bytes).tensors.get('h')!.data;
    cases.forEach(([bits, want], i) => expect(data[i], `0x${bits.toString(16)}`).toBe(want));
    // -0 keeps its sign.
    const neg0 = parseSafetensors(build({ h: { dtype: 'F16', shape: [], data_offsets: [0, 2] } }, u16Bytes([0x8000])));
    expect(Object.is(neg0.tensors.get('h')!.data[0], -0)).toBe(true);
  });

  it('F16 infinities and NaN: refused by default, decoded with nonFinite: "allow"', () => {
    const bytes = build({ 'half/special': { dtype: 'F16', shape: [3], data_offsets: [0, 6] } }, u16Bytes([0x7c00, 0xfc00, 0x7e00]));
    expectWeightsError(() => parseSafetensors(bytes), /"half\/special".*non-finite/);
    const data = parseSafetensors(bytes, { nonFinite: 'allow' }).tensors.get('half/special')!.data;
    expect(data[0]).toBe(Infinity);
    expect(data[1]).toBe(-Infinity);
    expect(Number.isNaN(data[2])).toBe(true);
  });

  it('decodes BF16 bit patterns to the exact values', () => {
    const cases: Array<[number, number]> = [
      [0x0000, 0],
      [0x3f80, 1],
      [0xbf80, -1],
      [0xc000, -2],
      [0x3f00, 0.5],
      [0x4049, 3.140625], // (1 + 73/128) * 2
      [0x7f7f, (1 + 127 / 128) * 2 ** 127], // largest finite bfloat16
      [0x0080, 2 ** -126], // smallest normal
      [0x0001, 2 ** -133], // smallest subnormal (f32 bits 0x00010000)
      [0x8001, -(2 ** -133)],
    ];
    const bytes = build({ b: { dtype: 'BF16', shape: [2, 5], data_offsets: [0, 2 * cases.length] } }, u16Bytes(cases.map((c) => c[0])));
    const t = parseSafetensors(bytes).tensors.get('b')!;
    expect(t.shape).toEqual([2, 5]);
    cases.forEach(([bits, want], i) => expect(t.data[i], `0x${bits.toString(16)}`).toBe(want));
  });

  it('BF16 infinities and NaN: refused by default, decoded with nonFinite: "allow"', () => {
    const bytes = build({ bf: { dtype: 'BF16', shape: [3], data_offsets: [0, 6] } }, u16Bytes([0x7f80, 0xff80, 0x7fc0]));
    expectWeightsError(() => parseSafetensors(bytes), /"bf".*non-finite/);
    const data = parseSafetensors(bytes, { nonFinite: 'allow' }).tensors.get('bf')!.data;
    expect([data[0], data[1]]).toEqual([Infinity, -Infinity]);
    expect(Number.isNaN(data[2])).toBe(true);
  });

  it('mixes dtypes in one file, at odd (unaligned) offsets', () => {
    const data = new Uint8Array([...u16Bytes([0x3c00]), ...f32Bytes([1.5]), ...u16Bytes([0xc000])]);
    const bytes = build(
      {
        h: { dtype: 'F16', shape: [1], data_offsets: [0, 2] },
        f: { dtype: 'F32', shape: [1], data_offsets: [2, 6] },
        b: { dtype: 'BF16', shape: [1], data_offsets: [6, 8] },
      },
      data,
    );
    const p = parseSafetensors(bytes);
    expect(p.tensors.get('h')!.data[0]).toBe(1);
    expect(p.tensors.get('f')!.data[0]).toBe(1.5);
    expect(p.tensors.get('b')!.data[0]).toBe(-2);
  });
});

describe('malformed files are WeightsErrors that name the problem', () => {
  const valid = encodeSafetensors(sampleTensors(), { source: 'test' });

  it('not bytes at all', () => {
    expectWeightsError(() => parseSafetensors('hello' as unknown as Uint8Array), /Uint8Array/);
    expectWeightsError(() => parseSafetensors(new ArrayBuffer(16) as unknown as Uint8Array), /Uint8Array/);
  });

  it('empty file and files shorter than 8 bytes', () => {
    expectWeightsError(() => parseSafetensors(new Uint8Array(0)), /0 bytes.*shorter than/);
    for (let n = 1; n < 8; n++) {
      expectWeightsError(() => parseSafetensors(new Uint8Array(n)), new RegExp(`${n} bytes.*shorter than`));
    }
  });

  it('truncated at every possible position: always a WeightsError, never anything else', () => {
    expect(valid.length).toBeGreaterThan(300);
    for (let cut = 0; cut < valid.length; cut++) {
      const e = caught(() => parseSafetensors(valid.slice(0, cut)));
      expect(e, `cut at ${cut}`).toBeInstanceOf(WeightsError);
      expect((e as Error).message, `cut at ${cut}`).toMatch(/shorter than|beyond|truncated/);
    }
    expect(() => parseSafetensors(valid)).not.toThrow();
  });

  it('header length beyond the end of the file', () => {
    const b = build({}, []);
    new DataView(b.buffer).setBigUint64(0, BigInt(b.length), true);
    expectWeightsError(() => parseSafetensors(b), /header length \d+ goes beyond the end/);
    const c = new Uint8Array(8);
    new DataView(c.buffer).setBigUint64(0, 1n, true);
    expectWeightsError(() => parseSafetensors(c), /header length 1 goes beyond/);
  });

  it('enormous header lengths are refused before anything is allocated', () => {
    for (const len of [2n ** 60n, 2n ** 64n - 1n, 2n ** 53n + 1n, BigInt(DEFAULT_MAX_HEADER_BYTES) + 1n]) {
      const b = new Uint8Array(64).fill(0x20);
      new DataView(b.buffer).setBigUint64(0, len, true);
      expectWeightsError(() => parseSafetensors(b), new RegExp(`header length ${len} exceeds the limit`));
    }
    // Without a limit it is still refused, as going beyond the file (no RangeError from BigInt/allocation).
    const b = new Uint8Array(64).fill(0x20);
    new DataView(b.buffer).setBigUint64(0, 2n ** 60n, true);
    expectWeightsError(() => parseSafetensors(b, { maxHeaderBytes: Infinity }), /goes beyond the end/);
    expectWeightsError(() => parseSafetensors(b, { maxHeaderBytes: 2 ** 62 }), /goes beyond the end/);
  });

  it('maxHeaderBytes is honoured', () => {
    const hl = Number(new DataView(valid.buffer).getBigUint64(0, true));
    expect(() => parseSafetensors(valid, { maxHeaderBytes: hl })).not.toThrow();
    expectWeightsError(() => parseSafetensors(valid, { maxHeaderBytes: hl - 1 }), /exceeds the limit of/);
  });

  it('header that is not JSON, or not UTF-8', () => {
    expectWeightsError(() => parseSafetensors(build('{"a": {"dtype": "F32"')), /not valid JSON/);
    expectWeightsError(() => parseSafetensors(build('not json at all')), /not valid JSON/);
    expectWeightsError(() => parseSafetensors(build('')), /not valid JSON/);
    expectWeightsError(() => parseSafetensors(build(null, [], { rawHeader: new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]) })), /not valid JSON/);
    // The cause is kept for debugging.
    const e = expectWeightsError(() => parseSafetensors(build('{')), /not valid JSON/);
    expect(e.cause).toBeInstanceOf(Error);
  });

  it('header JSON that is not an object', () => {
    for (const h of ['[]', 'null', '42', '"text"', 'true', '[{"dtype":"F32","shape":[],"data_offsets":[0,4]}]']) {
      expectWeightsError(() => parseSafetensors(build(h, f32Bytes([1]))), /not a JSON object/);
    }
  });

  it('tensor descriptor that is not an object', () => {
    for (const d of [null, 3, 'F32']) {
      expectWeightsError(() => parseSafetensors(build({ w: d }, f32Bytes([1]))), /"w".*descriptor/);
    }
  });

  it('unknown or missing dtype', () => {
    for (const dtype of ['I64', 'F64', 'U8', 'f32', 'toString', '__proto__', 'constructor', 7, null, undefined]) {
      const h = { w: { dtype, shape: [1], data_offsets: [0, 8] } };
      expectWeightsError(() => parseSafetensors(build(h, new Uint8Array(8))), /"w" has unsupported dtype/);
    }
  });

  it('invalid shapes', () => {
    for (const shape of [[-1], [1.5], ['3'], '3', null, undefined, [2 ** 53], [1, null]]) {
      const h = { w: { dtype: 'F32', shape, data_offsets: [0, 4] } };
      expectWeightsError(() => parseSafetensors(build(h, f32Bytes([1]))), /"w" has an invalid shape/);
    }
  });

  it('shape not matching the byte count', () => {
    const cases: Array<[unknown[], number[], number[] | Uint8Array]> = [
      [[3], [0, 8], f32Bytes([1, 2])],
      [[2], [0, 12], f32Bytes([1, 2, 3])],
      [[], [0, 0], []],
      [[0], [0, 4], f32Bytes([1])],
      [[2 ** 30, 2 ** 30], [0, 8], f32Bytes([1, 2])],
    ];
    for (const [shape, offs, data] of cases) {
      const h = { w: { dtype: 'F32', shape, data_offsets: offs } };
      expectWeightsError(() => parseSafetensors(build(h, data)), /"w" of shape .* needs \d+ bytes but data_offsets span \d+/);
    }
    const h16 = { h: { dtype: 'F16', shape: [3], data_offsets: [0, 4] } };
    expectWeightsError(() => parseSafetensors(build(h16, new Uint8Array(4))), /"h" .*F16 needs 6 bytes/);
  });

  it('data_offsets out of range or malformed', () => {
    expectWeightsError(
      () => parseSafetensors(build({ w: { dtype: 'F32', shape: [100], data_offsets: [0, 400] } }, f32Bytes([1, 2]))),
      /"w" data_offsets \[0, 400\] go beyond the 8 data bytes/,
    );
    expectWeightsError(
      () => parseSafetensors(build({ w: { dtype: 'F32', shape: [1], data_offsets: [8, 12] } }, f32Bytes([1, 2]))),
      /"w" data_offsets \[8, 12\] go beyond/,
    );
    for (const offs of [[4, 0], [-4, 0], [0], [0, 4, 8], '0,4', null, [0, 1.5], [0, 2 ** 53], [0, '4']]) {
      const h = { w: { dtype: 'F32', shape: [1], data_offsets: offs } };
      expectWeightsError(() => parseSafetensors(build(h, f32Bytes([1, 2]))), /"w" has invalid data_offsets/);
    }
  });

  it('overlapping tensors', () => {
    const h = {
      a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
      b: { dtype: 'F32', shape: [2], data_offsets: [4, 12] },
    };
    expectWeightsError(() => parseSafetensors(build(h, f32Bytes([1, 2, 3]))), /"a" and "b" overlap/);
    const same = {
      a: { dtype: 'F32', shape: [1], data_offsets: [0, 4] },
      b: { dtype: 'F32', shape: [1], data_offsets: [0, 4] },
    };
    expectWeightsError(() => parseSafetensors(build(same, f32Bytes([1]))), /overlap/);
    const nested = {
      outer: { dtype: 'F32', shape: [3], data_offsets: [0, 12] },
      inner: { dtype: 'F16', shape: [2], data_offsets: [4, 8] },
    };
    expectWeightsError(() => parseSafetensors(build(nested, f32Bytes([1, 2, 3]))), /"outer" and "inner" overlap/);
  });

  it('zero-size tensors occupy no bytes and never overlap', () => {
    const h = {
      a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] },
      e1: { dtype: 'F32', shape: [0], data_offsets: [4, 4] },
      e2: { dtype: 'F32', shape: [0, 5], data_offsets: [0, 0] },
    };
    const p = parseSafetensors(build(h, f32Bytes([1, 2])));
    expect(p.tensors.get('e1')!.data.length).toBe(0);
    expect([...p.tensors.get('a')!.data]).toEqual([1, 2]);
  });

  it('__metadata__ that is not a string-to-string object', () => {
    for (const m of [[], 'x', 5, null]) {
      expectWeightsError(() => parseSafetensors(build({ __metadata__: m })), /__metadata__ is not an object/);
    }
    expectWeightsError(() => parseSafetensors(build({ __metadata__: { n: 1 } })), /__metadata__ value for "n" is not a string/);
  });

  it('NaN and ±Infinity are refused by default, naming the tensor; allowed with nonFinite: "allow"', () => {
    for (const bad of [NaN, Infinity, -Infinity]) {
      const bytes = encodeSafetensors({ 'ok/weight': { shape: [2], data: new Float32Array([1, 2]) }, 'layer/bad weight': { shape: [2, 2], data: new Float32Array([0, 1, bad, 3]) } });
      const e = expectWeightsError(() => parseSafetensors(bytes), /"layer\/bad weight".*non-finite/);
      expect(e.message).toContain('element 2');
      expect(e.message).toContain(String(bad));
      expectWeightsError(() => parseSafetensors(bytes, { nonFinite: 'error' }), /"layer\/bad weight"/);
      const v = parseSafetensors(bytes, { nonFinite: 'allow' }).tensors.get('layer/bad weight')!.data;
      expect(Object.is(v[2], Math.fround(bad))).toBe(true);
      expect(v[3]).toBe(3);
    }
    // A NaN payload written by hand (quiet NaN with a payload, negative sign).
    const bits = new Uint8Array(4);
    new DataView(bits.buffer).setUint32(0, 0xffc00123, true);
    const hand = build({ n: { dtype: 'F32', shape: [], data_offsets: [0, 4] } }, bits);
    expectWeightsError(() => parseSafetensors(hand), /"n".*non-finite value \(NaN\)/);
    expect(Number.isNaN(parseSafetensors(hand, { nonFinite: 'allow' }).tensors.get('n')!.data[0])).toBe(true);
  });

  it('random byte flips: each file either parses or throws WeightsError, nothing else', () => {
    const rnd = mulberry32(0xc0ffee);
    const hl = Number(new DataView(valid.buffer).getBigUint64(0, true));
    let ok = 0;
    let errors = 0;
    for (let iter = 0; iter < 3000; iter++) {
      const b = valid.slice();
      const flips = 1 + Math.floor(rnd() * 4);
      for (let f = 0; f < flips; f++) {
        // Aim most flips at the length prefix and the header, where the parsing happens.
        const r = rnd();
        const pos = r < 0.1 ? Math.floor(rnd() * 8) : r < 0.8 ? 8 + Math.floor(rnd() * hl) : Math.floor(rnd() * b.length);
        if (rnd() < 0.5) b[pos] ^= 1 << Math.floor(rnd() * 8);
        else b[pos] = Math.floor(rnd() * 256);
      }
      if (parsesOrWeightsError(b) === 'ok') ok++;
      else errors++;
    }
    // Both outcomes must actually occur, or the test is not exercising anything.
    expect(ok).toBeGreaterThan(0);
    expect(errors).toBeGreaterThan(0);
  });

  it('structured header mutations: each either parses or throws WeightsError', () => {
    const rnd = mulberry32(42);
    const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)];
    const weird: unknown[] = [null, true, -1, 0, 1, 1.5, 2 ** 53, 1e308, '', 'F32', 'BF16', [], [0], [0, 0], [1, 2, 3], {}, { a: 1 }, '__proto__'];
    const seen = new Set<string>();
    const data = f32Bytes([1, 2, 3, 4]);
    for (let iter = 0; iter < 2000; iter++) {
      const entry: Record<string, unknown> = { dtype: 'F32', shape: [2, 2], data_offsets: [0, 16] };
      const key = pick(['dtype', 'shape', 'data_offsets', 'extra']);
      entry[key] = pick(weird);
      const name = pick(['w', '__proto__', 'constructor', '__metadata__', '', 'a/b']);
      const header = `{${JSON.stringify(name)}: ${JSON.stringify(entry)}}`;
      seen.add(parsesOrWeightsError(build(header, data)));
    }
    // Both outcomes occur (the mutations reach both the accepting and the refusing paths).
    expect([...seen].sort()).toEqual(['error', 'ok']);
  });

  it('random garbage: never anything but a WeightsError', () => {
    const rnd = mulberry32(7);
    let errors = 0;
    for (let iter = 0; iter < 500; iter++) {
      const n = Math.floor(rnd() * 64);
      const b = new Uint8Array(n);
      for (let i = 0; i < n; i++) b[i] = Math.floor(rnd() * 256);
      if (n >= 8 && rnd() < 0.5) new DataView(b.buffer).setBigUint64(0, BigInt(Math.floor(rnd() * (n - 7))), true);
      errors += parsesOrWeightsError(b) === 'error' ? 1 : 0;
    }
    expect(errors).toBeGreaterThan(400); // garbage is almost never a valid file
  });
});

describe('models/googlenet.safetensors (the committed BVLC GoogLeNet weights)', () => {
  const bytes = new Uint8Array(readFileSync(new URL('../models/googlenet.safetensors', import.meta.url)));
  const file = parseSafetensors(bytes);

  it('holds 116 tensors and 6,998,552 values, all finite', () => {
    expect(file.tensors.size).toBe(116);
    let total = 0;
    for (const [name, t] of file.tensors) {
      expect(t.data.length, name).toBe(t.shape.reduce((a, b) => a * b, 1));
      total += t.data.length;
      for (let i = 0; i < t.data.length; i++) {
        if (!Number.isFinite(t.data[i])) throw new Error(`${name}[${i}] = ${t.data[i]}`);
      }
    }
    expect(total).toBe(6_998_552);
  });

  it('has the expected names and shapes (OHWI convolutions, [out,in] classifier)', () => {
    expect(file.tensors.get('conv1/7x7_s2/weight')!.shape).toEqual([64, 7, 7, 3]);
    expect(file.tensors.get('conv1/7x7_s2/bias')!.shape).toEqual([64]);
    expect(file.tensors.get('conv2/3x3/weight')!.shape).toEqual([192, 3, 3, 64]);
    expect(file.tensors.get('inception_3a/5x5/weight')!.shape).toEqual([32, 5, 5, 16]);
    expect(file.tensors.get('inception_5b/pool_proj/weight')!.shape).toEqual([128, 1, 1, 832]);
    expect(file.tensors.get('loss3/classifier/weight')!.shape).toEqual([1000, 1024]);
    expect(file.tensors.get('loss3/classifier/bias')!.shape).toEqual([1000]);
    // Every layer has a weight and a matching bias.
    const layers = new Set([...file.tensors.keys()].map((k) => k.replace(/\/(weight|bias)$/, '')));
    expect(layers.size).toBe(58);
    for (const l of layers) {
      const w = file.tensors.get(`${l}/weight`);
      const b = file.tensors.get(`${l}/bias`);
      expect(w, l).toBeDefined();
      expect(b, l).toBeDefined();
      expect(b!.shape, l).toEqual([w!.shape[0]]);
      expect(w!.shape.length === 4 || l === 'loss3/classifier', l).toBe(true);
    }
  });

  it('carries provenance metadata', () => {
    expect(file.metadata.source).toContain('424d98682b50dd88d0b8cca401c66855709bd013');
    expect(file.metadata.license).toMatch(/unrestricted use/);
    expect(file.metadata.layout).toMatch(/OHWI/);
  });
});
