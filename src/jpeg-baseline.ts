/**
 * Baseline JPEGs decoded as libjpeg-turbo decodes them (`djpeg`, bit for bit), in full or at 1/2, 1/4 or
 * 1/8 scale (`djpeg -scale 1/2`, `1/4`, `1/8`). In full, each 8×8 block goes through jidctint.c's accurate
 * integer IDCT; scaled, through jidctred.c's reduced ones: 4×4, 2×2, or 1×1 (the block's mean, from its DC
 * coefficient alone). A subsampled component takes the next larger IDCT as long as that removes
 * upsampling, as libjpeg chooses (4:2:0 chroma at 1/2 takes the full 8×8 one, at 1/8 the 2×2: neither
 * needs upsampling); what remains subsampled (4:2:0 in full, 4:2:2, 4:4:0) comes back replicated with
 * its factors, for the caller to upsample as libjpeg does (its "fancy" filters, but replication at 1/8).
 * Where only the DC is needed, the AC coefficients are entropy-decoded only to be skipped (a progressive
 * file's AC scans of such a component are not decoded at all). Scaled, a photo decodes two to several
 * times faster, into the block-reduced image a classifier wants anyway.
 *
 * Taken: 8-bit Huffman-coded JPEGs of 1, 3 or 4 (CMYK/YCCK) components, restart markers, either
 * sequential (SOF0/SOF1) in one interleaved (or single-component) scan, decoded block by block, or
 * progressive (SOF2), whose scans (T.81 G.1.2, as libjpeg's jdphuff.c) build every block's quantized
 * coefficients (Int16, 128 bytes a block) that then go through the same IDCTs, dequantized with each
 * component's table as it was at its first scan: djpeg's output, bit for bit, also for files whose scans
 * leave some AC coefficients unsent or unrefined, whose blocks libjpeg smooths first (`smoothBlock`).
 * Anything else (arithmetic coding, 12-bit, several sequential scans, sampling factors that do not divide
 * the largest) returns undefined, and the caller decodes the image with jpeg-js. In a sequential JPEG so
 * does any inconsistency (a bad Huffman code, data that ends early, a missing restart marker), leaving
 * jpeg-js's results and errors; in a progressive one (`strict`) it is an ImageDecodeError naming it. The
 * samples come back before colour conversion (the caller decides YCbCr or RGB).
 */

import { ImageDecodeError } from './errors.js';
import type { PlainUint8Array } from './image.js';

/** The scales decoded: 1/denom of the size (1: in full). */
export type JpegScale = 1 | 2 | 4 | 8;

export interface ScaledJpeg {
  width: number;
  height: number;
  components: number;
  /** Interleaved samples, `components` per pixel, rows of `width` pixels (a fresh array: decodeImage returns it). */
  data: PlainUint8Array;
  /**
   * Per component, how many output samples each of its samples was replicated to (horizontally,
   * vertically): where it is not 1×1, libjpeg upsamples, with its "fancy" filters in full and at 1/2 and
   * 1/4 scale (the caller applies them to the replicated samples) and by replication at 1/8.
   */
  expand: [number, number][];
}

/** Natural (row-major) index of the k-th coefficient in zigzag order. */
const ZIGZAG = new Uint8Array([
  0, 1, 8, 16, 9, 2, 3, 10, 17, 24, 32, 25, 18, 11, 4, 5, 12, 19, 26, 33, 40, 48, 41, 34, 27, 20, 13, 6, 7, 14, 21,
  28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23, 30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61,
  54, 47, 55, 62, 63,
]);

const LOOKAHEAD = 9;

/** A Huffman table: codes of up to LOOKAHEAD bits by table lookup, longer ones by the canonical limits. */
interface Huffman {
  /** (length << 8) | symbol for each LOOKAHEAD-bit prefix, 0 where the code is longer. */
  fast: Uint16Array;
  /** maxcode[l]: largest code of length l (-1: none); valptr[l]: index of its first symbol minus mincode. */
  maxcode: Int32Array;
  valoff: Int32Array;
  symbols: Uint8Array;
}

/** The typed arrays buildHuffman allocates for a table, besides its symbols (a copy of them). */
const HUFFMAN_BYTES = 2 * (1 << LOOKAHEAD) + 2 * 4 * 18;

function buildHuffman(counts: Uint8Array, symbols: Uint8Array): Huffman | undefined {
  const fast = new Uint16Array(1 << LOOKAHEAD);
  const maxcode = new Int32Array(18).fill(-1);
  const valoff = new Int32Array(18);
  let code = 0, k = 0;
  for (let l = 1; l <= 16; l++) {
    const n = counts[l - 1];
    valoff[l] = k - code;
    for (let i = 0; i < n; i++, k++, code++) {
      if (code >= 1 << l) return undefined; // over-subscribed
      if (l <= LOOKAHEAD) {
        const shift = LOOKAHEAD - l;
        for (let j = code << shift, e = (code + 1) << shift; j < e; j++) fast[j] = (l << 8) | symbols[k];
      }
    }
    if (n) maxcode[l] = code - 1;
    code <<= 1;
  }
  return { fast, maxcode, valoff, symbols };
}

/** libjpeg's fixed-point constants: x * 2^13 rounded (CONST_BITS 13; PASS1_BITS is 2). */
const F = (x: number) => Math.round(x * 8192);
// The odd part of the 2×2 reduced IDCT: sqrt(2) * (c7 - c5 + c3 - c1), (-c1 + c3 + c5 + c7),
// (-c1 + c3 - c5 - c7), (c1 + c3 + c5 + c7), with ck = cos(k pi / 16); the first and third negated below.
const F0720 = F(0.720959822), F0850 = F(0.850430095), F1272 = F(1.27275858), F3624 = F(3.624509785);

const clamp = (x: number) => (x < -128 ? 0 : x > 127 ? 255 : x + 128);

/**
 * The 2×2 reduced IDCT of one dequantized block `c` (natural order) into out[o], out[o + 1] and the same
 * two at out[o + stride]: columns 0, 1, 3, 5, 7 first (rows 0, 1, 3, 5, 7), then the two rows.
 */
const ws = new Int32Array(16);
/** The columns (and rows) the 2×2 reduced IDCT reads. */
const COLS_2X2 = new Uint8Array([0, 1, 3, 5, 7]);

function idct2x2(c: Float64Array, out: Uint8Array, o: number, stride: number): void {
  for (let i = 0; i < 5; i++) {
    const col = COLS_2X2[i];
    const t10 = c[col] * (1 << 15);
    const t0 = -c[56 + col] * F0720 + c[40 + col] * F0850 - c[24 + col] * F1272 + c[8 + col] * F3624;
    ws[col] = Math.floor((t10 + t0 + (1 << 12)) / (1 << 13));
    ws[8 + col] = Math.floor((t10 - t0 + (1 << 12)) / (1 << 13));
  }
  for (let r = 0; r < 2; r++) {
    const w = r * 8;
    const t10 = ws[w] * (1 << 15);
    const t0 = -ws[w + 7] * F0720 + ws[w + 5] * F0850 - ws[w + 3] * F1272 + ws[w + 1] * F3624;
    out[o + r * stride] = clamp(Math.floor((t10 + t0 + (1 << 19)) / (1 << 20)));
    out[o + r * stride + 1] = clamp(Math.floor((t10 - t0 + (1 << 19)) / (1 << 20)));
  }
}

const F0211 = F(0.211164243), F0509 = F(0.509795579), F0601 = F(0.601344887), F0765 = F(0.765366865);
const F0899 = F(0.899976223), F1061 = F(1.061594337), F1451 = F(1.451774981), F1847 = F(1.847759065);
const F2172 = F(2.172734803), F2562 = F(2.562915447);
const ws4 = new Float64Array(32);

/**
 * The 4×4 reduced IDCT (jidctred.c's jpeg_idct_4x4) of one dequantized block into a 4×4 patch at out[o]:
 * columns 0-3 and 5-7 (rows 0-3, 5-7; the second pass never reads column 4), then the four rows.
 * Even part from coefficients 0, 2 and 6, odd part from 1, 3, 5 and 7.
 */
function idct4x4(c: Float64Array, out: Uint8Array, o: number, stride: number): void {
  for (let col = 0; col < 8; col++) {
    if (col === 4) continue;
    const t0 = c[col] * (1 << 14);
    const t2 = c[16 + col] * F1847 - c[48 + col] * F0765;
    const t10 = t0 + t2, t12 = t0 - t2;
    const z1 = c[56 + col], z2 = c[40 + col], z3 = c[24 + col], z4 = c[8 + col];
    const o0 = -z1 * F0211 + z2 * F1451 - z3 * F2172 + z4 * F1061;
    const o2 = -z1 * F0509 - z2 * F0601 + z3 * F0899 + z4 * F2562;
    ws4[col] = Math.floor((t10 + o2 + (1 << 11)) / (1 << 12));
    ws4[24 + col] = Math.floor((t10 - o2 + (1 << 11)) / (1 << 12));
    ws4[8 + col] = Math.floor((t12 + o0 + (1 << 11)) / (1 << 12));
    ws4[16 + col] = Math.floor((t12 - o0 + (1 << 11)) / (1 << 12));
  }
  for (let r = 0; r < 4; r++) {
    const w = r * 8, q = o + r * stride;
    const t0 = ws4[w] * (1 << 14);
    const t2 = ws4[w + 2] * F1847 - ws4[w + 6] * F0765;
    const t10 = t0 + t2, t12 = t0 - t2;
    const z1 = ws4[w + 7], z2 = ws4[w + 5], z3 = ws4[w + 3], z4 = ws4[w + 1];
    const o0 = -z1 * F0211 + z2 * F1451 - z3 * F2172 + z4 * F1061;
    const o2 = -z1 * F0509 - z2 * F0601 + z3 * F0899 + z4 * F2562;
    out[q] = clamp(Math.floor((t10 + o2 + (1 << 18)) / (1 << 19)));
    out[q + 3] = clamp(Math.floor((t10 - o2 + (1 << 18)) / (1 << 19)));
    out[q + 1] = clamp(Math.floor((t12 + o0 + (1 << 18)) / (1 << 19)));
    out[q + 2] = clamp(Math.floor((t12 - o0 + (1 << 18)) / (1 << 19)));
  }
}

const F0298 = F(0.298631336), F0390 = F(0.390180644), F0541 = F(0.541196100), F1175 = F(1.175875602);
const F1501 = F(1.501321110), F1961 = F(1.961570560), F2053 = F(2.053119869), F3072 = F(3.072711026);
const ws8 = new Float64Array(64);
const out8 = new Float64Array(8);

/**
 * One 8-point pass of jidctint.c's accurate integer IDCT (jpeg_idct_islow): v[o + k*st], k = 0..7, into
 * w[q + k*wst], times `scale` (2^-11 after the columns, 2^-18 after the rows: a right shift, exact in
 * doubles) and rounded down after adding `round`. Even part from 0, 2, 4, 6, odd part from 1, 3, 5, 7.
 */
function islowPass(v: Float64Array, o: number, st: number, w: Float64Array, q: number, wst: number, round: number, scale: number): void {
  const z2e = v[o + 2 * st], z3e = v[o + 6 * st];
  const z1e = (z2e + z3e) * F0541;
  const e2 = z1e - z3e * F1847, e3 = z1e + z2e * F0765;
  const e0 = (v[o] + v[o + 4 * st]) * 8192, e1 = (v[o] - v[o + 4 * st]) * 8192;
  const t10 = e0 + e3 + round, t13 = e0 - e3 + round, t11 = e1 + e2 + round, t12 = e1 - e2 + round;
  let o0 = v[o + 7 * st], o1 = v[o + 5 * st], o2 = v[o + 3 * st], o3 = v[o + st];
  const z1 = o0 + o3, z2 = o1 + o2, z3 = o0 + o2, z4 = o1 + o3;
  const z5 = (z3 + z4) * F1175;
  const y1 = -z1 * F0899, y2 = -z2 * F2562, y3 = -z3 * F1961 + z5, y4 = -z4 * F0390 + z5;
  o0 = o0 * F0298 + y1 + y3;
  o1 = o1 * F2053 + y2 + y4;
  o2 = o2 * F3072 + y2 + y3;
  o3 = o3 * F1501 + y1 + y4;
  w[q] = Math.floor((t10 + o3) * scale);
  w[q + 7 * wst] = Math.floor((t10 - o3) * scale);
  w[q + wst] = Math.floor((t11 + o2) * scale);
  w[q + 6 * wst] = Math.floor((t11 - o2) * scale);
  w[q + 2 * wst] = Math.floor((t12 + o1) * scale);
  w[q + 5 * wst] = Math.floor((t12 - o1) * scale);
  w[q + 3 * wst] = Math.floor((t13 + o0) * scale);
  w[q + 4 * wst] = Math.floor((t13 - o0) * scale);
}

/**
 * jpeg_idct_islow of one dequantized block into an 8×8 patch at out[o]: columns (CONST_BITS - PASS1_BITS =
 * 11 bits off), then rows (CONST_BITS + PASS1_BITS + 3 = 18). A column or row whose AC terms are all zero
 * is its DC term, shifted, as in libjpeg (the same values).
 */
function idct8x8(c: Float64Array, out: Uint8Array, o: number, stride: number): void {
  for (let col = 0; col < 8; col++) {
    if (!c[8 + col] && !c[16 + col] && !c[24 + col] && !c[32 + col] && !c[40 + col] && !c[48 + col] && !c[56 + col]) {
      const dc = c[col] * 4; // << PASS1_BITS
      for (let r = 0; r < 64; r += 8) ws8[r + col] = dc;
      continue;
    }
    islowPass(c, col, 8, ws8, col, 8, 1024, 1 / 2048);
  }
  for (let r = 0; r < 64; r += 8) {
    const q = o + (r >> 3) * stride;
    if (!ws8[r + 1] && !ws8[r + 2] && !ws8[r + 3] && !ws8[r + 4] && !ws8[r + 5] && !ws8[r + 6] && !ws8[r + 7]) {
      const v = clamp(Math.floor((ws8[r] + 16) / 32)); // DESCALE(w, PASS1_BITS + 3)
      for (let k = 0; k < 8; k++) out[q + k] = v;
      continue;
    }
    islowPass(ws8, r, 1, out8, 0, 1, 131072, 1 / 262144);
    for (let k = 0; k < 8; k++) out[q + k] = clamp(out8[k]);
  }
}

interface Component {
  id: number;
  h: number;
  v: number;
  tq: number;
  dc?: Huffman;
  ac?: Huffman;
  /** Progressive: its quantization table, latched at its first scan as libjpeg does (undefined: no scan yet). */
  q?: Int32Array;
  /** Progressive: its quantized coefficients, 64 a block in natural order, blocks as its plane's (bw × bh). */
  coefs?: Int16Array;
  /**
   * Progressive: for its zigzag coefficients 0-9, the Al of the last scan that sent them (their low bits
   * still unknown; 0: exact), or -1 before any scan has (libjpeg's coef_bits): what block smoothing reads.
   */
  bits?: Int8Array;
}

/** Where one component's samples go, at the scale decoded. */
export interface ComponentLayout {
  /** Its blocks in an MCU: h × v (1 × 1 in a single-component scan, whatever the frame says). */
  h: number;
  v: number;
  /** Samples per block side: 1 (DC only), 2 or 4 (the 2×2 or 4×4 reduced IDCT), 8 (the full IDCT). */
  s: number;
  /** Blocks per row and block rows of the component (whole MCUs when interleaved); its plane is bw*s × bh*s. */
  bw: number;
  bh: number;
  /** How many output samples each of its samples is replicated to, horizontally and vertically (ScaledJpeg.expand). */
  fx: number;
  fy: number;
}

export interface FrameLayout {
  mcusX: number;
  mcusY: number;
  /** The output size: the frame at 1/denom scale, rounded up. */
  width: number;
  height: number;
  components: ComponentLayout[];
}

/**
 * How a frame (its size and each component's sampling factors) decodes at 1/`denom` scale, or undefined
 * for sampling factors this decoder does not take (outside 1-4, or not dividing the largest). A
 * subsampled component takes the next larger IDCT as long as that removes upsampling, as libjpeg chooses.
 */
export function frameLayout(width: number, height: number, hs: number[], vs: number[], denom: JpegScale): FrameLayout | undefined {
  const minSz = 8 / denom;
  const single = hs.length === 1;
  const hmax = single ? 1 : Math.max(...hs), vmax = single ? 1 : Math.max(...vs);
  const mcusX = Math.ceil(width / (8 * hmax)), mcusY = Math.ceil(height / (8 * vmax));
  const components: ComponentLayout[] = [];
  for (let i = 0; i < hs.length; i++) {
    if (hs[i] < 1 || hs[i] > 4 || vs[i] < 1 || vs[i] > 4) return undefined;
    const h = single ? 1 : hs[i], v = single ? 1 : vs[i];
    if (hmax % h || vmax % v) return undefined;
    let s = minSz;
    while (s < 8 && (hmax * minSz) % (h * s * 2) === 0 && (vmax * minSz) % (v * s * 2) === 0) s *= 2;
    components.push({ h, v, s, bw: mcusX * h, bh: mcusY * v, fx: (hmax * minSz) / (h * s), fy: (vmax * minSz) / (v * s) });
  }
  return { mcusX, mcusY, width: Math.ceil((width * minSz) / 8), height: Math.ceil((height * minSz) / 8), components };
}

/**
 * The bytes decodeBaselineJpeg allocates for a frame of this layout, besides its tables (tableBytes):
 * each component's plane, the interleaved output, the coefficient block and the DC predictions; for a
 * progressive frame also every block's coefficients (Int16, 128 bytes a block, whatever the scale), what
 * each component's scans have sent (10 bytes) and the block that smoothing fills (Int32, 256 bytes).
 */
export function layoutBytes(l: FrameLayout, progressive = false): number {
  const nc = l.components.length;
  let bytes = l.width * l.height * nc + 8 * 64 + 4 * nc + (progressive ? 256 : 0);
  for (const c of l.components) bytes += c.bw * c.s * c.bh * c.s + (progressive ? c.bw * c.bh * 128 + 10 : 0);
  return bytes;
}

/**
 * The bytes decodeBaselineJpeg allocates for the tables of one DQT (`huffman` false) or DHT segment,
 * b[s..e): an Int32Array(64) for a quantization table; for a Huffman table, its lookup and limits and a
 * copy of its symbols. An upper bound for a malformed segment, which the decoder stops reading.
 */
export function tableBytes(b: Uint8Array, s: number, e: number, huffman: boolean): number {
  let bytes = 0;
  for (let q = s; q < e; ) {
    if (!huffman) {
      bytes += 4 * 64;
      q += 1 + 64 * ((b[q] >> 4) + 1);
      continue;
    }
    let symbols = 0;
    for (let i = q + 1; i <= q + 16 && i < e; i++) symbols += b[i];
    bytes += HUFFMAN_BYTES + symbols;
    q += 17 + symbols;
  }
  return bytes;
}

/**
 * Decode `b` at 1/`denom` scale (1: in full), or undefined when it is not a JPEG this handles (see above).
 * `strict` (a progressive JPEG, which no other decoder here takes): what is wrong with the data is an
 * ImageDecodeError naming it, instead of undefined.
 */
export function decodeBaselineJpeg(b: Uint8Array, denom: JpegScale, strict = false): ScaledJpeg | undefined {
  try {
    return decode(b, denom);
  } catch (e) {
    if (!strict) return undefined;
    const message = e instanceof Fault ? e.message : `${(e as Error)?.message ?? e}`;
    throw new ImageDecodeError(`JPEG: ${message}`, e instanceof Fault ? undefined : { cause: e });
  }
}

/** What is wrong with a JPEG's data, said as such (see decodeBaselineJpeg's `strict`). */
class Fault extends Error {}
const fail = (message: string): never => {
  throw new Fault(message);
};

/** More scans than this is refused: each may visit every block, so a few KB could otherwise take minutes. */
export const MAX_SCANS = 1000;

/**
 * How many times over a progressive JPEG's scans may go through its coefficients in all (each scan counted
 * as its blocks × its spectral band, a DC scan's band 1; the frame's coefficients 64 a block of each
 * component): more is refused before any scan is decoded. libjpeg's default scripts come to 2.7 (YCbCr
 * 4:2:0, 10 scans) and 3.0 (greyscale, 6 scans); any file that sends each coefficient once and then one
 * bit a refinement (Al at most 13) at most 14, and an encoder uses far fewer refinements. Scans that only
 * end EOB runs carry a few bytes for 32767 blocks, yet an AC refinement scan still goes through every
 * coefficient of each block: 1000 of them made a 170 KB file claiming 7000×7000 take 96 s to decode.
 */
export const MAX_PASSES = 8;

/**
 * The blocks one progressive scan (its header b[s..)) visits, times its spectral band: an AC scan its
 * component's own blocks, ceil(samples / 8) each way; an interleaved one whole MCUs. What the header does
 * not allow (progressiveScan refuses it) counts as what it says, within 1..64 coefficients a block.
 */
function scanVisits(b: Uint8Array, s: number, comps: Component[], layout: FrameLayout, width: number, height: number): number {
  const ns = b[s];
  const cs = [];
  for (let i = 0; i < ns; i++) {
    const ci = comps.findIndex((x) => x.id === b[s + 1 + 2 * i]);
    if (ci >= 0) cs.push(ci);
  }
  if (!cs.length) return 0;
  const ss = b[s + 1 + 2 * ns], se = b[s + 2 + 2 * ns];
  const band = ss === 0 ? 1 : Math.min(64, Math.max(1, se - ss + 1));
  const { cols, rows } = scanGrid(comps, layout, cs, width, height);
  return cols * rows * band * (ns > 1 ? cs.reduce((a, ci) => a + layout.components[ci].h * layout.components[ci].v, 0) : 1);
}

/** The MCUs a scan of components `sc` (indices in the frame) goes through: its component's own blocks, or whole MCUs. */
function scanGrid(comps: Component[], layout: FrameLayout, sc: number[], width: number, height: number): { cols: number; rows: number } {
  if (sc.length > 1) return { cols: layout.mcusX, rows: layout.mcusY };
  const hmax = Math.max(...comps.map((c) => c.h)), vmax = Math.max(...comps.map((c) => c.v));
  const c0 = comps[sc[0]];
  return { cols: Math.ceil(Math.ceil((width * c0.h) / hmax) / 8), rows: Math.ceil(Math.ceil((height * c0.v) / vmax) / 8) };
}

/** The image's coefficients: 64 per block of each component (what one pass over them visits). */
function coefCount(comps: Component[], layout: FrameLayout, width: number, height: number): number {
  let coefs = 0;
  for (let ci = 0; ci < comps.length; ci++) {
    const { cols, rows } = scanGrid(comps, layout, [ci], width, height);
    coefs += 64 * cols * rows;
  }
  return coefs;
}

/** Refuse a progression of `scans` scans (so far) whose visits (scanVisits, summed) exceed MAX_PASSES over the frame's coefficients. */
function checkProgression(scans: number, visits: number, coefs: number): void {
  if (scans > MAX_SCANS) fail(`${scans} scans, more than the ${MAX_SCANS} allowed (each may visit every block of the image)`);
  if (visits > MAX_PASSES * coefs) {
    fail(
      `${scans} scans that go through the image's coefficients ${(visits / coefs).toFixed(1)} times over, more than the ${MAX_PASSES} allowed ` +
        `(an encoder's scans go through them about 3 times: this much work is a hostile file's)`,
    );
  }
}

/**
 * The marker segments that follow entropy-coded data from `p` on (a progressive JPEG's later tables and
 * scans), found as decode finds them: the data's bytes skipped, as are markers without a length (RSTn,
 * TEM), up to the end-of-image marker, the end of the bytes, or a segment the bytes cannot hold.
 * `visit(marker, s, e)` gets each segment's contents b[s..e).
 */
export function forEachLaterSegment(b: Uint8Array, p: number, visit: (marker: number, s: number, e: number) => void): void {
  const n = b.length;
  for (;;) {
    while (p < n && b[p] !== 0xff) p++;
    while (p < n && b[p] === 0xff) p++;
    if (p + 2 >= n || b[p] === 0xd9) return;
    const m = b[p++];
    if (m === 0x00 || m === 0x01 || (m >= 0xd0 && m <= 0xd7)) continue;
    const len = (b[p] << 8) | b[p + 1];
    if (len < 2 || p + len > n) return;
    visit(m, p + 2, p + len);
    p += len;
  }
}

/**
 * At the first scan of a progressive JPEG (its SOS segment's contents b[s..e)): that scan and the ones the
 * rest of the bytes hold (forEachLaterSegment), refused (checkProgression) before any is decoded if there
 * are too many or they would go through the coefficients too many times over.
 */
function checkAllScans(b: Uint8Array, s: number, e: number, comps: Component[], layout: FrameLayout, width: number, height: number, coefs: number): void {
  let scans = 1, visits = scanVisits(b, s, comps, layout, width, height);
  forEachLaterSegment(b, e, (m, s2) => {
    if (m !== 0xda) return;
    scans++;
    visits += scanVisits(b, s2, comps, layout, width, height);
  });
  checkProgression(scans, visits, coefs);
}

/**
 * Why the entropy-coded data stopped where a block still needed bits (the reader is at the end of the
 * bytes, or at a marker): the same words image.ts uses when jpeg-js meets a truncation.
 */
function dataEnd(b: Uint8Array, pos: number, where: string): string {
  if (pos + 1 >= b.length) return 'the data ends early (truncated): it stops inside the image data, without an end-of-image marker';
  if (b[pos + 1] === 0xd9) return 'the data ends early (truncated): the end-of-image marker comes before the last block of a scan';
  return `corrupt data: marker ff${b[pos + 1].toString(16).padStart(2, '0')} inside ${where}, before its last block`;
}

function decode(b: Uint8Array, denom: JpegScale): ScaledJpeg | undefined {
  const n = b.length;
  if (n < 4 || b[0] !== 0xff || b[1] !== 0xd8) return undefined;
  const quant: (Int32Array | undefined)[] = [];
  const dcTables: (Huffman | undefined)[] = [];
  const acTables: (Huffman | undefined)[] = [];
  let comps: Component[] | undefined;
  let layout: FrameLayout | undefined;
  let width = 0, height = 0, restart = 0, progressive = false, scans = 0, visits = 0, coefs = 0;
  let pred: Int32Array | undefined; // progressive: the DC predictions, reset at each scan
  let p = 2;
  for (;;) {
    while (p < n && b[p] !== 0xff) p++;
    while (p < n && b[p] === 0xff) p++;
    if (p >= n) {
      // The bytes end between segments: after a whole scan, libjpeg shows what the scans so far gave.
      if (progressive && scans > 0) return finish(comps!, layout!, width, height);
      return fail('the data ends early (truncated): the file ends before the image data');
    }
    const m = b[p++];
    if (m === 0xd9) {
      if (progressive && scans > 0) return finish(comps!, layout!, width, height);
      return fail('end-of-image marker before any image data');
    }
    if (m === 0x00 || m === 0x01 || (m >= 0xd0 && m <= 0xd7)) continue; // no length (libjpeg skips them)
    if (m === 0xd8) fail('a second start-of-image marker');
    if (p + 2 > n) fail('the data ends early (truncated): it stops inside a marker segment header');
    const len = (b[p] << 8) | b[p + 1];
    if (len < 2) fail(`marker ff${m.toString(16)} has an invalid length ${len}`);
    if (p + len > n) fail(`the data ends early (truncated): marker ff${m.toString(16)} segment runs past the end`);
    const s = p + 2, e = p + len;
    if (m === 0xdb) {
      for (let q = s; q < e; ) {
        const pq = b[q] >> 4, tq = b[q] & 15;
        if (tq > 3 || pq > 1) fail(`quantization table ${tq} (precision ${pq}) is not one of 0-3, 8- or 16-bit`);
        if (q + 1 + 64 * (pq + 1) > e) fail('a quantization table runs past the end of its segment');
        const t = new Int32Array(64);
        for (let k = 0; k < 64; k++) t[ZIGZAG[k]] = pq ? (b[q + 1 + 2 * k] << 8) | b[q + 2 + 2 * k] : b[q + 1 + k];
        quant[tq] = t;
        q += 1 + 64 * (pq + 1);
      }
    } else if (m === 0xc4) {
      for (let q = s; q < e; ) {
        const tc = b[q] >> 4, th = b[q] & 15;
        if (tc > 1 || th > 3) fail(`Huffman table class ${tc}, number ${th}: not a DC or AC table 0-3`);
        if (q + 17 > e) fail('a Huffman table runs past the end of its segment');
        const counts = b.subarray(q + 1, q + 17);
        const total = counts.reduce((a, x) => a + x, 0);
        if (q + 17 + total > e) fail('a Huffman table runs past the end of its segment');
        const table = buildHuffman(counts, b.slice(q + 17, q + 17 + total));
        if (!table) fail(`${tc ? 'AC' : 'DC'} Huffman table ${th} has more codes than its code lengths allow`);
        (tc ? acTables : dcTables)[th] = table;
        q += 17 + total;
      }
    } else if (m === 0xdd) {
      if (len < 4) fail('restart interval segment too short');
      restart = (b[s] << 8) | b[s + 1];
    } else if (m === 0xc0 || m === 0xc1 || m === 0xc2) {
      if (comps) fail('more than one frame header');
      if (len < 8 || b[s] !== 8) return undefined;
      height = (b[s + 1] << 8) | b[s + 2];
      width = (b[s + 3] << 8) | b[s + 4];
      const nc = b[s + 5];
      if (!width || !height || (nc !== 1 && nc !== 3 && nc !== 4) || len < 8 + 3 * nc) return undefined;
      comps = [];
      for (let i = 0; i < nc; i++) {
        const hv = b[s + 7 + 3 * i];
        comps.push({ id: b[s + 6 + 3 * i], h: hv >> 4, v: hv & 15, tq: b[s + 8 + 3 * i] });
      }
      layout = frameLayout(width, height, comps.map((c) => c.h), comps.map((c) => c.v), denom);
      if (!layout) return undefined; // sampling factors this decoder does not take
      progressive = m === 0xc2;
    } else if (m >= 0xc3 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) {
      if (comps) fail('more than one frame header');
      return undefined; // lossless, arithmetic, hierarchical
    } else if (m === 0xda) {
      if (!comps || !layout) return fail('image data (SOS) before the frame header (SOF)');
      if (progressive) {
        if (scans === 0) {
          coefs = coefCount(comps, layout, width, height);
          checkAllScans(b, s, e, comps, layout, width, height, coefs);
        }
        visits += scanVisits(b, s, comps, layout, width, height);
        checkProgression(++scans, visits, coefs);
        pred ??= new Int32Array(comps.length);
        pred.fill(0);
        p = progressiveScan(b, s, e, comps, layout, quant, dcTables, acTables, restart, scans, width, height, pred);
        continue;
      }
      const ns = b[s];
      if (ns !== comps.length || len < 6 + 2 * ns) return undefined;
      for (let i = 0; i < ns; i++) {
        const c = comps.find((x) => x.id === b[s + 1 + 2 * i]);
        if (!c || c.dc) return undefined;
        c.dc = dcTables[b[s + 2 + 2 * i] >> 4];
        c.ac = acTables[b[s + 2 + 2 * i] & 15];
      }
      const ss = b[s + 1 + 2 * ns], se = b[s + 2 + 2 * ns], a = b[s + 3 + 2 * ns];
      if (ss !== 0 || se !== 63 || a !== 0) return undefined;
      // Scan order must be frame order for the MCU layout below.
      for (let i = 0; i < ns; i++) if (b[s + 1 + 2 * i] !== comps[i].id) return undefined;
      return scan(b, e, comps, quant, layout, restart);
    }
    p = e;
  }
}

/**
 * The entropy-coded data of a scan from `pos`: 0xff00 is a data 0xff; any other marker (or the end of the
 * bytes) ends the data, after which zeros are fed: `fake` counts them, and a block or MCU that consumed
 * any of them (`overrun`) had too little data. `buf` holds only the `bits` unread bits (at most 24, after
 * a fill from 16 or fewer), so it stays a small integer: a 32-bit buffer went past V8's small-integer
 * range and, until the reader was optimized, every update allocated a heap number.
 */
class BitReader {
  buf = 0;
  bits = 0;
  ended = false;
  fake = 0;
  constructor(private readonly b: Uint8Array, public pos: number) {}

  /** Up to 17-24 bits: enough for any code (16) or value (16). */
  fill(): void {
    const b = this.b;
    while (this.bits <= 16) {
      let x = 0;
      if (!this.ended && this.pos < b.length && !(b[this.pos] === 0xff && b[this.pos + 1] !== 0x00)) {
        x = b[this.pos];
        this.pos += x === 0xff ? 2 : 1;
      } else {
        this.ended = true;
        this.fake += 8;
      }
      this.buf = ((this.buf & ((1 << this.bits) - 1)) << 8) | x;
      this.bits += 8;
    }
  }

  /** The next Huffman symbol of table `t`, or -1 for a code the table does not have. */
  decode(t: Huffman): number {
    if (this.bits < 16) this.fill();
    const buf = this.buf, bits = this.bits;
    const f = t.fast[(buf >>> (bits - LOOKAHEAD)) & ((1 << LOOKAHEAD) - 1)];
    if (f) {
      this.bits -= f >> 8;
      return f & 255;
    }
    let l = LOOKAHEAD + 1;
    let code = (buf >>> (bits - l)) & ((1 << l) - 1);
    while (code > t.maxcode[l]) {
      l++;
      if (l > 16) return -1;
      code = (buf >>> (bits - l)) & ((1 << l) - 1);
    }
    this.bits -= l;
    return t.symbols[t.valoff[l] + code];
  }

  /** `s` bits (1-16) as they stand. */
  get(s: number): number {
    if (this.bits < s) this.fill();
    this.bits -= s;
    return (this.buf >>> this.bits) & ((1 << s) - 1);
  }

  /** `s` bits (1-15) as a signed magnitude (T.81 F.2.2.1's EXTEND). */
  receive(s: number): number {
    const v = this.get(s);
    return v < 1 << (s - 1) ? v - (1 << s) + 1 : v;
  }

  bit(): number {
    if (this.bits < 1) this.fill();
    return (this.buf >>> --this.bits) & 1;
  }

  get overrun(): boolean {
    return this.fake > this.bits;
  }

  /** At the end of a restart interval: byte-align, then expect RSTn (n = `k`, 0-7); false where it is not there. */
  restart(k: number): boolean {
    const b = this.b, n = b.length;
    this.bits = 0;
    this.buf = 0;
    this.fake = 0;
    while (this.pos < n && b[this.pos] === 0xff && b[this.pos + 1] === 0xff) this.pos++;
    if (this.pos + 1 >= n || b[this.pos] !== 0xff || b[this.pos + 1] !== 0xd0 + k) return false;
    this.pos += 2;
    this.ended = false;
    return true;
  }
}

/**
 * One block, dequantized in `coef` (natural order), into component `c`'s plane at block (row, col): at
 * its scale's IDCT; at 1/8, jpeg_idct_1x1: DESCALE(DC · Q0, 3), then the range limit.
 */
function putBlock(c: ComponentLayout, plane: Uint8Array, row: number, col: number, coef: Float64Array): void {
  if (c.s === 1) {
    plane[row * c.bw + col] = clamp((coef[0] + 4) >> 3);
    return;
  }
  const w = c.bw * c.s;
  (c.s === 2 ? idct2x2 : c.s === 4 ? idct4x4 : idct8x8)(coef, plane, (row * w + col) * c.s, w);
}

/** Each component's samples, replicated to the output grid where it is still subsampled, cropped. */
function assemble(layout: FrameLayout, planes: Uint8Array[]): ScaledJpeg {
  const { width: ow, height: oh } = layout;
  const nc = planes.length;
  const data = new Uint8Array(ow * oh * nc);
  for (let ci = 0; ci < nc; ci++) {
    const { bw, s, fx, fy } = layout.components[ci];
    const plane = planes[ci], pw = bw * s;
    for (let y = 0, o = ci; y < oh; y++) {
      const src = Math.floor(y / fy) * pw;
      if (fx === 1) for (let x = 0; x < ow; x++, o += nc) data[o] = plane[src + x];
      else for (let x = 0; x < ow; x++, o += nc) data[o] = plane[src + Math.floor(x / fx)];
    }
  }
  return { width: ow, height: oh, components: nc, data, expand: layout.components.map((c) => [c.fx, c.fy]) };
}

/** The baseline scan, every block reduced to 8/denom × 8/denom samples (or more for a subsampled component). */
function scan(b: Uint8Array, start: number, comps: Component[], quant: (Int32Array | undefined)[], layout: FrameLayout, restart: number): ScaledJpeg | undefined {
  for (const c of comps) if (!quant[c.tq] || !c.dc || !c.ac) return undefined;
  const { mcusX, mcusY } = layout;
  const planes = layout.components.map((l) => new Uint8Array(l.bw * l.s * l.bh * l.s));
  const rd = new BitReader(b, start);
  const pred = new Int32Array(comps.length);
  const coef = new Float64Array(64); // dequantized, natural order (whole numbers)
  const total = mcusX * mcusY;
  let nextMarker = 0;
  for (let mcu = 0; mcu < total; mcu++) {
    if (restart && mcu > 0 && mcu % restart === 0) {
      // Byte-align, then expect RSTn (n counting 0..7) and reset the DC predictions.
      if (!rd.restart(nextMarker)) return undefined;
      nextMarker = (nextMarker + 1) & 7;
      pred.fill(0);
    }
    const mx = mcu % mcusX, my = (mcu - mx) / mcusX;
    for (let ci = 0; ci < comps.length; ci++) {
      const c = layout.components[ci], plane = planes[ci];
      const q = quant[comps[ci].tq]!;
      const dc = comps[ci].dc!, ac = comps[ci].ac!;
      for (let by = 0; by < c.v; by++) {
        for (let bx = 0; bx < c.h; bx++) {
          const t = rd.decode(dc);
          if (t < 0 || t > 11) return undefined;
          pred[ci] += t ? rd.receive(t) : 0;
          // Full-resolution components at 1/8 need only the DC: their AC coefficients are read and dropped.
          const keep = c.s > 1;
          if (keep) coef.fill(0);
          coef[0] = pred[ci] * q[0];
          for (let k = 1; k < 64; ) {
            const rs = rd.decode(ac);
            if (rs < 0) return undefined;
            const r = rs >> 4, sz = rs & 15;
            if (sz) {
              k += r;
              if (k > 63) return undefined;
              if (keep) {
                const z = ZIGZAG[k];
                coef[z] = rd.receive(sz) * q[z];
              } else rd.get(sz);
              k++;
            } else if (r === 15) {
              k += 16;
            } else break;
            if (k > 64) return undefined;
          }
          putBlock(c, plane, my * c.v + by, mx * c.h + bx, coef);
        }
      }
    }
    if (rd.overrun) return undefined; // the data ran out (or a marker came) inside this MCU
  }
  return assemble(layout, planes);
}

/**
 * One scan of a progressive JPEG (T.81 G.1.2, as libjpeg's jdphuff.c decodes it), its header b[s..e),
 * into the components' coefficient buffers (allocated at the first scan). DC first (the difference,
 * predicted, shifted up by Al) and refinement (one bit a block) scans may interleave components; AC scans
 * (spectral band Ss..Se) take one, its own blocks without MCU padding, and code runs of empty blocks (EOB
 * runs); AC refinement scans add one bit to the coefficients already nonzero in the band and place new
 * ±1 << Al ones. Returns where its data ends. Throws a Fault naming what is wrong, with parameters libjpeg
 * refuses (start_pass_phuff_decoder's checks) and with data it would only warn about.
 */
function progressiveScan(
  b: Uint8Array, s: number, e: number, comps: Component[], layout: FrameLayout, quant: (Int32Array | undefined)[],
  dcTables: (Huffman | undefined)[], acTables: (Huffman | undefined)[], restart: number, scanNo: number,
  width: number, height: number, pred: Int32Array,
): number {
  const where = `scan ${scanNo}`;
  const ns = b[s];
  if (ns < 1 || ns > 4 || e - s !== 4 + 2 * ns) fail(`${where}: its header has ${ns} components and the wrong length`);
  const sc: number[] = [];
  const tables: (Huffman | undefined)[] = [];
  const ss = b[s + 1 + 2 * ns], se = b[s + 2 + 2 * ns], ah = b[s + 3 + 2 * ns] >> 4, al = b[s + 3 + 2 * ns] & 15;
  if ((ss === 0 ? se !== 0 : se < ss || se > 63 || ns !== 1) || (ah !== 0 && al !== ah - 1) || al > 13) {
    fail(
      `${where}: invalid progressive parameters Ss=${ss} Se=${se} Ah=${ah} Al=${al} (a DC scan is 0..0, an AC scan one component's band ` +
        `within 1..63; a refinement takes Al = Ah - 1; Al at most 13)`,
    );
  }
  for (let i = 0; i < ns; i++) {
    const id = b[s + 1 + 2 * i];
    const ci = comps.findIndex((x) => x.id === id);
    if (ci < 0) fail(`${where} names component ${id}, which the frame does not have`);
    if (sc.includes(ci)) fail(`${where} names component ${id} twice`);
    sc.push(ci);
    const c = comps[ci];
    c.q ??= quant[c.tq] ?? fail(`component ${id} uses quantization table ${c.tq}, which is not defined`);
    const dc = ss === 0, t = dc ? b[s + 2 + 2 * i] >> 4 : b[s + 2 + 2 * i] & 15;
    const table = (dc ? dcTables : acTables)[t];
    if (!table && !(dc && ah)) fail(`${where} uses ${dc ? 'DC' : 'AC'} Huffman table ${t}, which is not defined`);
    tables.push(table);
  }
  const L = sc.map((ci) => layout.components[ci]);
  if (ns > 1 && L.reduce((a, l) => a + l.h * l.v, 0) > 10) fail(`${where}: more than 10 blocks in an MCU`);
  for (let ci = 0; ci < comps.length; ci++) {
    const l = layout.components[ci];
    comps[ci].coefs ??= new Int16Array(l.bw * l.bh * 64);
    comps[ci].bits ??= new Int8Array(10).fill(-1);
  }
  // What the scan sends, as libjpeg notes it when the scan starts (also for one whose data is skipped).
  for (const ci of sc) for (let k = ss; k <= Math.min(se, 9); k++) comps[ci].bits![k] = al;
  // An AC scan covers its component's own blocks, ceil(samples / 8) each way; an interleaved one whole MCUs.
  const { cols, rows } = scanGrid(comps, layout, sc, width, height);
  // An AC scan of a component decoded at 1/8 from its DC alone: its coefficients are never read, so its
  // data is skipped (nor could a later scan of it be decoded: a refinement needs the coefficients so far).
  if (ss > 0 && L[0].s === 1) return skipScan(b, e, restart ? Math.ceil((cols * rows) / restart) - 1 : 0, where);
  const rd = new BitReader(b, e);
  const p1 = 1 << al, m1 = -1 << al;
  let eobrun = 0;
  const bad = (): never => fail(`${where}: a Huffman code its table does not have, or a run past the end of the block (corrupt data)`);
  const block = (i: number, buf: Int16Array, o: number): void => {
    const t = tables[i];
    if (ss === 0) {
      if (ah) {
        if (rd.bit()) buf[o] |= p1;
        return;
      }
      const sz = rd.decode(t!);
      if (sz < 0 || sz > 11) bad();
      if (sz) pred[i] += rd.receive(sz);
      buf[o] = pred[i] << al;
      return;
    }
    let k = ss;
    if (!ah) {
      if (eobrun > 0) {
        eobrun--;
        return;
      }
      for (; k <= se; k++) {
        const rs = rd.decode(t!);
        if (rs < 0) bad();
        const r = rs >> 4, sz = rs & 15;
        if (sz) {
          k += r;
          if (k > se) bad();
          buf[o + ZIGZAG[k]] = rd.receive(sz) << al;
        } else if (r === 15) {
          k += 15;
        } else {
          eobrun = (1 << r) - 1 + (r ? rd.get(r) : 0);
          break;
        }
      }
      return;
    }
    if (eobrun === 0) {
      for (; k <= se; k++) {
        const rs = rd.decode(t!);
        if (rs < 0) bad();
        let r = rs >> 4;
        const sz = rs & 15;
        let v = 0;
        if (sz) {
          if (sz !== 1) bad();
          v = rd.bit() ? p1 : m1;
        } else if (r !== 15) {
          eobrun = (1 << r) + (r ? rd.get(r) : 0);
          break;
        }
        // Past r zero coefficients (refining the nonzero ones met on the way) to where the new one goes.
        for (; k <= se; k++) {
          const z = o + ZIGZAG[k];
          if (buf[z] !== 0) {
            if (rd.bit() && (buf[z] & p1) === 0) buf[z] += buf[z] >= 0 ? p1 : m1;
          } else if (--r < 0) break;
        }
        if (v) {
          if (k > se) bad();
          buf[o + ZIGZAG[k]] = v;
        }
      }
    }
    if (eobrun > 0) {
      // The rest of the band in a block of an EOB run: only the nonzero coefficients are refined.
      for (; k <= se; k++) {
        const z = o + ZIGZAG[k];
        if (buf[z] !== 0 && rd.bit() && (buf[z] & p1) === 0) buf[z] += buf[z] >= 0 ? p1 : m1;
      }
      eobrun--;
    }
  };
  const total = cols * rows;
  let nextMarker = 0;
  for (let mcu = 0; mcu < total; mcu++) {
    if (restart && mcu > 0 && mcu % restart === 0) {
      if (!rd.restart(nextMarker)) {
        const atEnd = rd.pos + 1 >= b.length || (b[rd.pos] === 0xff && b[rd.pos + 1] === 0xd9);
        fail(atEnd ? dataEnd(b, rd.pos, where) : `${where}: a restart marker is missing or out of sequence`);
      }
      nextMarker = (nextMarker + 1) & 7;
      pred.fill(0);
      eobrun = 0;
    }
    const mx = mcu % cols, my = (mcu - mx) / cols;
    for (let i = 0; i < ns; i++) {
      const l = L[i], buf = comps[sc[i]].coefs!;
      const h = ns > 1 ? l.h : 1, v = ns > 1 ? l.v : 1;
      for (let by = 0; by < v; by++) for (let bx = 0; bx < h; bx++) block(i, buf, ((my * v + by) * l.bw + mx * h + bx) * 64);
    }
    if (rd.overrun) fail(dataEnd(b, rd.pos, where));
  }
  return rd.pos;
}

/**
 * Past the entropy-coded data of a scan from `p` without decoding it: to the first marker that is not a
 * stuffed 0xff00 nor one of the `restarts` restart markers it should hold (checked in sequence, as the
 * decoder does). Returns where the data ends. Bytes that end inside it are a truncation, as when decoded;
 * an end-of-image marker ends it as a complete scan (only decoding could tell a cut one, whose
 * coefficients would not be used anyway).
 */
function skipScan(b: Uint8Array, p: number, restarts: number, where: string): number {
  const n = b.length;
  for (let next = 0; ; ) {
    while (p < n && b[p] !== 0xff) p++;
    let q = p + 1;
    while (q < n && b[q] === 0xff) q++;
    if (q >= n) fail(dataEnd(b, n, where));
    if (b[q] === 0xd9) return p;
    const m = b[q];
    if (m === 0x00) {
      p = q + 1;
      continue;
    }
    if (next < restarts) {
      if (m !== 0xd0 + (next & 7)) fail(`${where}: a restart marker is missing or out of sequence`);
      next++;
      p = q + 1;
      continue;
    }
    return p;
  }
}

/** The quantization table of a component no scan has named: libjpeg's multipliers stay zero (a grey plane). */
const NO_QUANT = new Int32Array(64);

/**
 * After the last scan: each component's coefficients, dequantized with its latched table, through the IDCT
 * of its scale; smoothed first where the scans left some of the first nine AC coefficients unsent or
 * unrefined (a file that ends after some of its scans), as libjpeg does (`smoothing`).
 */
function finish(comps: Component[], layout: FrameLayout, width: number, height: number): ScaledJpeg {
  const coef = new Float64Array(64);
  const smooth = smoothingUseful(comps) ? new Int32Array(64) : undefined;
  const hmax = Math.max(...comps.map((c) => c.h)), vmax = Math.max(...comps.map((c) => c.v));
  const planes = layout.components.map((l, ci) => {
    const plane = new Uint8Array(l.bw * l.s * l.bh * l.s);
    const c = comps[ci], q = c.q ?? NO_QUANT, buf = c.coefs;
    // The blocks libjpeg smooths: the component's own (not the padding of whole MCUs).
    const wib = Math.ceil(Math.ceil((width * c.h) / hmax) / 8), hib = Math.ceil(Math.ceil((height * c.v) / vmax) / 8);
    const iMcuRows = Math.ceil(height / (8 * vmax));
    for (let row = 0, o = 0; row < l.bh; row++) {
      for (let col = 0; col < l.bw; col++, o += 64) {
        if (buf && smooth && row < hib && col < wib) {
          smoothBlock(c, l.bw, l.bh, wib, hib, iMcuRows, row, col, smooth);
          for (let k = 0; k < 64; k++) coef[k] = smooth[k] * q[k];
        } else if (buf) {
          for (let k = 0; k < 64; k++) coef[k] = buf[o + k] * q[k];
        }
        putBlock(l, plane, row, col, coef);
      }
    }
    return plane;
  });
  return assemble(layout, planes);
}

/** Natural-order places of zigzag coefficients 1-9 (those smoothing estimates). */
const ZZ9 = [1, 8, 16, 9, 2, 3, 10, 17, 24];

/**
 * Whether libjpeg smooths a progressive image's blocks (jdcoefct.c smoothing_ok, on by default): every
 * component has had a scan (its table latched) that sent its DC, its table's DC and first nine AC entries
 * are nonzero, and some component still lacks some low bits of its first nine AC coefficients.
 */
function smoothingUseful(comps: Component[]): boolean {
  let useful = false;
  for (const c of comps) {
    if (!c.q || !c.bits || c.bits[0] < 0 || c.q[0] === 0 || ZZ9.some((k) => c.q![k] === 0)) return false;
    for (let k = 1; k <= 9; k++) if (c.bits[k] !== 0) useful = true;
  }
  return useful;
}

/**
 * Component `c`'s block (row, col), smoothed into `out` as libjpeg-turbo 2.1 does it (jdcoefct.c
 * decompress_smooth_data): each of the first nine AC coefficients that is still zero and not known exactly
 * is estimated from the DC values of the 5×5 blocks around (edges repeated), and clamped to what its
 * missing low bits can hold; where no AC coefficient has been sent at all, the DC too is re-estimated
 * (a Gaussian-like kernel that keeps the mean) and the next four AC coefficients estimated. The rows
 * around are the ones libjpeg-turbo 2.1 takes: it goes by iMCU rows (`iMcuRows` of `c.v` block rows; the
 * last one holds what is left), and takes the row two above (below) only when the block is at least two
 * rows into its iMCU row (two from its end) or its iMCU row is at least the third (third from last),
 * else the row next to it: for a component with 2 block rows per iMCU row, the blocks of the second
 * iMCU row of three see only the rows next to them. The columns around are the nearest within the
 * component's own width, except in a component two blocks wide, where libjpeg's sliding window reads
 * columns 0, 0, 0, 1, 0 for its first block and 0, 0, 1, 0, 0 for its second. Blocks past the stored
 * ones read a DC of 0, as libjpeg's zeroed padding.
 */
function smoothBlock(c: Component, bw: number, bh: number, wib: number, hib: number, iMcuRows: number, row: number, col: number, out: Int32Array): void {
  const buf = c.coefs!, q = c.q!, bits = c.bits!;
  const v = c.v, last = iMcuRows - 1;
  const mcuRow = Math.floor(row / v), br = row - mcuRow * v;
  const blockRows = mcuRow < last ? v : hib % v || v;
  const prev = br > 0 || mcuRow > 0 ? row - 1 : row, next = br < blockRows - 1 || mcuRow < last ? row + 1 : row;
  const rows = [br > 1 || mcuRow > 1 ? row - 2 : prev, prev, row, next, br < blockRows - 2 || mcuRow + 1 < last ? row + 2 : next];
  // DC[5 * i + j]: row i, column col - 2 + j of the 5×5 window (libjpeg's DC01..DC25).
  const D = new Array<number>(25);
  const cols = wib === 2 ? (col === 0 ? [0, 0, 0, 1, 0] : [0, 0, 1, 0, 0]) : [-2, -1, 0, 1, 2].map((dx) => Math.min(Math.max(col + dx, 0), wib - 1));
  for (let i = 0; i < 5; i++) {
    for (let j = 0; j < 5; j++) {
      const r = rows[i], x = cols[j];
      D[5 * i + j] = r < bh && x < bw ? buf[(r * bw + x) * 64] : 0;
    }
  }
  const o = (row * bw + col) * 64;
  for (let k = 0; k < 64; k++) out[k] = buf[o + k];
  let changeDc = true;
  for (let k = 1; k <= 9; k++) if (bits[k] !== -1) changeDc = false;
  const q00 = q[0];
  /**
   * Q00 × `sum` / (256 × quantizer `qk`), rounded half away from zero, its magnitude capped at 2^al - 1
   * where al > 0 (what the coefficient's missing low bits can hold), as an Int16.
   */
  const quantized = (sum: number, qk: number, al: number): number => {
    const num = q00 * sum;
    let pred = Math.floor((qk * 128 + Math.abs(num)) / (qk * 256));
    if (al > 0 && pred >= 1 << al) pred = (1 << al) - 1;
    return ((num >= 0 ? pred : -pred) << 16) >> 16;
  };
  /** Estimate natural coefficient `nat` (zigzag `zz`) from Q00 × `sum` unless it is known or nonzero. */
  const estimate = (zz: number, nat: number, sum: number): void => {
    const al = bits[zz];
    if (al !== 0 && out[nat] === 0) out[nat] = quantized(sum, q[nat], al);
  };
  const d = (n: number) => D[n - 1]; // libjpeg's numbering, DC01..DC25
  estimate(1, 1, changeDc
    ? -d(1) - d(2) + d(4) + d(5) - 3 * d(6) + 13 * d(7) - 13 * d(9) + 3 * d(10) - 3 * d(11) + 38 * d(12) - 38 * d(14) + 3 * d(15)
      - 3 * d(16) + 13 * d(17) - 13 * d(19) + 3 * d(20) - d(21) - d(22) + d(24) + d(25)
    : -7 * d(11) + 50 * d(12) - 50 * d(14) + 7 * d(15));
  estimate(2, 8, changeDc
    ? -d(1) - 3 * d(2) - 3 * d(3) - 3 * d(4) - d(5) - d(6) + 13 * d(7) + 38 * d(8) + 13 * d(9) - d(10) + d(16) - 13 * d(17)
      - 38 * d(18) - 13 * d(19) + d(20) + d(21) + 3 * d(22) + 3 * d(23) + 3 * d(24) + d(25)
    : -7 * d(3) + 50 * d(8) - 50 * d(18) + 7 * d(23));
  estimate(3, 16, changeDc
    ? d(3) + 2 * d(7) + 7 * d(8) + 2 * d(9) - 5 * d(12) - 14 * d(13) - 5 * d(14) + 2 * d(17) + 7 * d(18) + 2 * d(19) + d(23)
    : -d(3) + 13 * d(8) - 24 * d(13) + 13 * d(18) - d(23));
  estimate(4, 9, changeDc
    ? -d(1) + d(5) + 9 * d(7) - 9 * d(9) - 9 * d(17) + 9 * d(19) + d(21) - d(25)
    : d(10) + d(16) - 10 * d(17) + 10 * d(19) - d(2) - d(20) + d(22) - d(24) + d(4) - d(6) + 10 * d(7) - 10 * d(9));
  estimate(5, 2, changeDc
    ? 2 * d(7) - 5 * d(8) + 2 * d(9) + d(11) + 7 * d(12) - 14 * d(13) + 7 * d(14) + d(15) + 2 * d(17) - 5 * d(18) + 2 * d(19)
    : -d(11) + 13 * d(12) - 24 * d(13) + 13 * d(14) - d(15));
  if (!changeDc) return;
  estimate(6, 3, d(7) - d(9) + 2 * d(12) - 2 * d(14) + d(17) - d(19));
  estimate(7, 10, d(7) - 3 * d(8) + d(9) - d(17) + 3 * d(18) - d(19));
  estimate(8, 17, d(7) - d(9) - 3 * d(12) + 3 * d(14) + d(17) - d(19));
  estimate(9, 24, d(7) + 2 * d(8) + d(9) - d(17) - 2 * d(18) - d(19));
  // The DC, always (its own bits do not cap it).
  out[0] = quantized(-2 * d(1) - 6 * d(2) - 8 * d(3) - 6 * d(4) - 2 * d(5) - 6 * d(6) + 6 * d(7) + 42 * d(8) + 6 * d(9) - 6 * d(10)
    - 8 * d(11) + 42 * d(12) + 152 * d(13) + 42 * d(14) - 8 * d(15) - 6 * d(16) + 6 * d(17) + 42 * d(18) + 6 * d(19) - 6 * d(20)
    - 2 * d(21) - 6 * d(22) - 8 * d(23) - 6 * d(24) - 2 * d(25), q00, 0);
}
