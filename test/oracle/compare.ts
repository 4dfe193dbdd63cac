/** Comparison helpers shared by the oracle tests. */

export interface Compared {
  /** max |a - ref| / max |ref| (max |a - ref| when ref is all zeros); Infinity on NaN or a size mismatch. */
  rel: number;
  maxAbsDiff: number;
  maxAbsRef: number;
}

export function compare(a: ArrayLike<number>, ref: ArrayLike<number>): Compared {
  if (a.length !== ref.length) return { rel: Infinity, maxAbsDiff: Infinity, maxAbsRef: NaN };
  let maxDiff = 0;
  let maxRef = 0;
  for (let i = 0; i < ref.length; i++) {
    const d = Math.abs(a[i] - ref[i]);
    if (!(d <= maxDiff)) maxDiff = Number.isNaN(d) ? Infinity : d;
    const r = Math.abs(ref[i]);
    if (r > maxRef) maxRef = r;
  }
  return { rel: maxRef > 0 ? maxDiff / maxRef : maxDiff, maxAbsDiff: maxDiff, maxAbsRef: maxRef };
}

/** Minimal safetensors (F32 only) reader for the dev checks against ../shared; independent of src/. */
export function readSafetensorsF32(bytes: Uint8Array): Map<string, { shape: number[]; data: Float32Array }> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const hl = Number(view.getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + hl))) as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  const out = new Map<string, { shape: number[]; data: Float32Array }>();
  for (const [name, e] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    if (e.dtype !== 'F32') throw new Error(`readSafetensorsF32: ${name} is ${e.dtype}`);
    const [b, end] = e.data_offsets;
    const data = new Float32Array((end - b) / 4);
    for (let i = 0; i < data.length; i++) data[i] = view.getFloat32(8 + hl + b + 4 * i, true);
    out.set(name, { shape: e.shape, data });
  }
  return out;
}
