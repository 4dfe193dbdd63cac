/**
 * safetensors reader and writer (https://huggingface.co/docs/safetensors): 8-byte little-endian header
 * length, a JSON header `{ name: { dtype, shape, data_offsets: [begin, end] }, __metadata__? }`, then
 * the raw little-endian data. Pure TypeScript (DataView / TextDecoder) so it runs in Node, browsers
 * and edge runtimes. Every malformed file is a WeightsError that names the problem.
 */
import { InputError, shown, WeightsError } from './errors.js';
import type { PlainUint8Array } from './image.js';

export interface Tensor {
  shape: number[];
  data: Float32Array;
}

export interface SafetensorsFile {
  tensors: Map<string, Tensor>;
  metadata: Record<string, string>;
}

export interface ParseOptions {
  /** Refuse headers larger than this before decoding them (default 16 MiB). */
  maxHeaderBytes?: number | undefined;
  /** What a tensor holding NaN or ±Infinity does: 'error' (default) or 'allow'. */
  nonFinite?: 'error' | 'allow' | undefined;
  /**
   * false: F32 tensors at 4-byte aligned places are views of `bytes` instead of copies (they change when
   * `bytes` does). Default true.
   */
  copy?: boolean | undefined;
}

const DTYPE_BYTES: Record<string, number> = { F32: 4, F16: 2, BF16: 2 };
export const DEFAULT_MAX_HEADER_BYTES = 16 * 1024 * 1024;

function f16ToF32(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

/**
 * Index of the first NaN or ±Infinity, or -1. The engine's own search says whether there is one (7M floats
 * in ~13 ms); the loop runs only to name the element.
 */
export function firstNonFinite(d: Float32Array): number {
  if (!d.includes(NaN) && !d.includes(Infinity) && !d.includes(-Infinity)) return -1;
  for (let i = 0; i < d.length; i++) if (!Number.isFinite(d[i])) return i;
  return -1;
}

/** Parse a safetensors file. F32, F16 and BF16 tensors are returned as Float32Array. */
export function parseSafetensors(bytes: Uint8Array, options: ParseOptions | null = {}): SafetensorsFile {
  options ??= {};
  const maxHeader = options.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES;
  if (typeof maxHeader !== 'number' || !(maxHeader >= 0)) throw new InputError(`maxHeaderBytes must be a number >= 0, got ${shown(maxHeader)}`);
  if (!(bytes instanceof Uint8Array)) throw new WeightsError('safetensors: expected bytes (Uint8Array)');
  if (bytes.length < 8) throw new WeightsError(`safetensors: file is ${bytes.length} bytes, shorter than the 8-byte header length`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = view.getBigUint64(0, true);
  // Compare as numbers: BigInt(maxHeader) would throw a RangeError for Infinity or a fraction.
  if (!(Number(headerLen) <= maxHeader)) {
    throw new WeightsError(`safetensors: header length ${headerLen} exceeds the limit of ${maxHeader} bytes`);
  }
  const hl = Number(headerLen);
  if (8 + hl > bytes.length) {
    throw new WeightsError(`safetensors: header length ${hl} goes beyond the end of the ${bytes.length}-byte file (truncated?)`);
  }
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + hl)));
  } catch (e) {
    throw new WeightsError(`safetensors: header is not valid JSON (${(e as Error).message})`, { cause: e });
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) {
    throw new WeightsError('safetensors: header is not a JSON object');
  }
  const dataStart = 8 + hl;
  const dataLen = bytes.length - dataStart;
  const tensors = new Map<string, Tensor>();
  let metadata: Record<string, string> = {};
  const ranges: Array<[number, number, string]> = [];
  for (const [name, entry] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      if (!entry || typeof entry !== 'object' || Array.isArray(entry)) {
        throw new WeightsError('safetensors: __metadata__ is not an object');
      }
      for (const [k, v] of Object.entries(entry)) {
        if (typeof v !== 'string') throw new WeightsError(`safetensors: __metadata__ value for "${k}" is not a string`);
      }
      metadata = entry as Record<string, string>;
      continue;
    }
    const e = entry as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (!e || typeof e !== 'object' || Array.isArray(e)) throw new WeightsError(`safetensors: tensor "${name}" has no descriptor object`);
    const dtype = e.dtype;
    // Own properties only: `"toString" in DTYPE_BYTES` is true through the prototype.
    if (typeof dtype !== 'string' || !Object.prototype.hasOwnProperty.call(DTYPE_BYTES, dtype)) {
      throw new WeightsError(`safetensors: tensor "${name}" has unsupported dtype ${JSON.stringify(dtype)} (supported: F32, F16, BF16)`);
    }
    const shape = e.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new WeightsError(`safetensors: tensor "${name}" has an invalid shape ${JSON.stringify(shape)}`);
    }
    const offs = e.data_offsets;
    if (!Array.isArray(offs) || offs.length !== 2 || !offs.every((d) => Number.isSafeInteger(d) && d >= 0) || offs[0] > offs[1]) {
      throw new WeightsError(`safetensors: tensor "${name}" has invalid data_offsets ${JSON.stringify(offs)}`);
    }
    const [begin, end] = offs as [number, number];
    if (end > dataLen) {
      throw new WeightsError(`safetensors: tensor "${name}" data_offsets [${begin}, ${end}] go beyond the ${dataLen} data bytes (truncated?)`);
    }
    const count = (shape as number[]).reduce((a, b) => a * b, 1);
    const elemBytes = DTYPE_BYTES[dtype];
    if (count * elemBytes !== end - begin) {
      throw new WeightsError(`safetensors: tensor "${name}" of shape [${shape}] ${dtype} needs ${count * elemBytes} bytes but data_offsets span ${end - begin}`);
    }
    if (end > begin) ranges.push([begin, end, name]); // zero-size tensors occupy no bytes
    const base = dataStart + begin;
    const aligned = dtype === 'F32' && (bytes.byteOffset + base) % 4 === 0;
    const data = aligned && options.copy === false ? new Float32Array(bytes.buffer, bytes.byteOffset + base, count) : new Float32Array(count);
    if (dtype === 'F32') {
      if (aligned) {
        if (options.copy !== false) data.set(new Float32Array(bytes.buffer, bytes.byteOffset + base, count));
      } else {
        for (let i = 0; i < count; i++) data[i] = view.getFloat32(base + 4 * i, true);
      }
    } else if (dtype === 'F16') {
      for (let i = 0; i < count; i++) data[i] = f16ToF32(view.getUint16(base + 2 * i, true));
    } else {
      const u = new Uint32Array(1);
      const f = new Float32Array(u.buffer);
      for (let i = 0; i < count; i++) {
        u[0] = view.getUint16(base + 2 * i, true) << 16;
        data[i] = f[0];
      }
    }
    if (options.nonFinite !== 'allow') {
      const i = firstNonFinite(data);
      if (i >= 0) throw new WeightsError(`safetensors: tensor "${name}" holds a non-finite value (${data[i]}) at element ${i}`);
    }
    tensors.set(name, { shape: shape as number[], data });
  }
  ranges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  for (let i = 1; i < ranges.length; i++) {
    if (ranges[i][0] < ranges[i - 1][1]) {
      throw new WeightsError(`safetensors: tensors "${ranges[i - 1][2]}" and "${ranges[i][2]}" overlap in the data section`);
    }
  }
  return { tensors, metadata };
}

/** Encode float32 tensors as a safetensors file (names sorted, 8-byte aligned data), in a fresh array of its own. */
export function encodeSafetensors(tensors: Map<string, Tensor> | Record<string, Tensor>, metadata?: Record<string, string>): PlainUint8Array {
  if (tensors === null || typeof tensors !== 'object') throw new InputError('encodeSafetensors takes a Map or an object of tensors by name');
  const entries = (tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors)).sort((a, b) =>
    a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0,
  );
  // No prototype: a tensor named __proto__ is a key like any other (on {} it set the prototype and vanished).
  const header: Record<string, unknown> = Object.create(null);
  if (metadata) header.__metadata__ = metadata;
  let off = 0;
  for (const [name, t] of entries) {
    if (name === '__metadata__') throw new WeightsError('safetensors: "__metadata__" cannot be a tensor name');
    if (t === null || typeof t !== 'object') throw new WeightsError(`safetensors: tensor "${name}" must be { shape, data }, got ${shown(t)}`);
    if (!Array.isArray(t.shape) || !t.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
      throw new WeightsError(`safetensors: tensor "${name}" has an invalid shape ${JSON.stringify(t.shape)}`);
    }
    if (!(t.data instanceof Float32Array)) throw new WeightsError(`safetensors: tensor "${name}" data is not a Float32Array`);
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (n !== t.data.length) throw new WeightsError(`safetensors: tensor "${name}" has ${t.data.length} values but shape [${t.shape}]`);
    header[name] = { dtype: 'F32', shape: t.shape, data_offsets: [off, off + 4 * n] };
    off += 4 * n;
  }
  const raw = new TextEncoder().encode(JSON.stringify(header));
  const hb = new Uint8Array(Math.ceil(raw.length / 8) * 8).fill(0x20);
  hb.set(raw);
  const out = new Uint8Array(8 + hb.length + off);
  new DataView(out.buffer).setBigUint64(0, BigInt(hb.length), true);
  out.set(hb, 8);
  let p = 8 + hb.length;
  for (const [, t] of entries) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), p);
    p += t.data.byteLength;
  }
  return out;
}
