// Convolution as im2col + packed GEMM, NHWC (im2col writes the GEMM's packed rows directly).
//
// C[m][n] = bias[n] + sum_k A[m][k] * B[k][n], m = output pixel (n, oy, ox), k = (ky, kx, ci), n = output channel.
// B is packed once at load into panels of NR = 12 output channels: panel j holds 12 biases, then K rows of
// 12 weights (zero-padded past Cout). A is packed on the fly, 3 rows at a time, k-major (a0[k] a1[k] a2[k]),
// into a small per-thread buffer that stays in L1 while every weight panel streams past it.
// The 3x12 micro-kernel keeps 9 accumulators + 3 weight vectors + 1 broadcast = 13 live v128 values, inside
// the 15 xmm registers V8 allocates (xmm15 is its scratch); all its loads use constant offsets from two
// pointers. A tail panel with at most 8 or 4 valid channels (Cout = 64 is 5 panels and 4 channels) runs a
// 3x8 or 3x4 variant that skips the padding's multiply-adds, and a block of 1 or 2 rows a 2x12 one.
// Measured here (Xeon, relaxed FMA, A and B in L1/L2) it runs at ~28-36 GFLOP/s where the previous 6x8
// kernel on unpacked rows (15 live values, an address add per broadcast) ran at ~15-18.
// The epilogue adds ReLU and stores at `outOff` channels into pixels `outStride` channels apart, so an
// inception branch writes straight into its slice of the concatenated output.
//
// Each output element is a sum over k in order 0..K-1 starting from the bias, whatever the tiling, so
// results do not depend on how rows and panels are split between threads.
import { madd, imin, imax, storeLanes } from './common';

export const NR: i32 = 12;
export const MR: i32 = 3;

/**
 * Rows of the first of the two blocks that the next `left` rows are cut into (the second takes up to 3
 * more): 4 rows as 2 + 2 (two 2x12 tiles per panel, 3 k-steps' time, where 3 + 1 takes 3x12 + 2x12).
 */
// @ts-ignore: decorator
@inline function firstRows(left: i32): i32 {
  return left == 4 ? 2 : imin(MR, left);
}

/** One output row of a tile: 12 channels (fewer in a tail panel), ReLU applied if asked. */
// @ts-ignore: decorator
@inline function storeRow(o: usize, c0: v128, c1: v128, c2: v128, valid: i32, relu: i32): void {
  if (relu) {
    const z = f32x4.splat(0);
    // pmax(c, 0) = c < 0 ? 0 : c, as the scalar reference: one maxps (f32x4.max costs V8 several), and a
    // NaN stays NaN (with pmax(0, c) it became 0), so an overflow reaches the outputs and is reported there.
    c0 = f32x4.pmax(c0, z);
    c1 = f32x4.pmax(c1, z);
    c2 = f32x4.pmax(c2, z);
  }
  if (valid >= 12) {
    v128.store(o, c0);
    v128.store(o, c1, 16);
    v128.store(o, c2, 32);
  } else {
    storeLanes(o, c0, valid);
    if (valid > 4) storeLanes(o + 16, c1, valid - 4);
    if (valid > 8) storeLanes(o + 32, c2, valid - 8);
  }
}

/**
 * Interleave `bytes` bytes of three rows into dst (s0[k] s1[k] s2[k] for each k); returns the end of dst.
 * 4 k at a time, a 3x4 transpose: rotate each row's vector so that every output vector takes lane i from
 * one of them (two blends): 3 pshufd + 6 blendps on x64 instead of 24 scalar moves, 2.5-3x faster.
 */
function interleave3(s0: usize, s1: usize, s2: usize, bytes: usize, dst: usize): usize {
  let k: usize = 0;
  for (; k + 16 <= bytes; k += 16) {
    const x = i32x4.shuffle(v128.load(s0 + k), v128.load(s0 + k), 0, 3, 2, 1); // x0 x3 x2 x1
    const y = i32x4.shuffle(v128.load(s1 + k), v128.load(s1 + k), 1, 0, 3, 2); // y1 y0 y3 y2
    const z = i32x4.shuffle(v128.load(s2 + k), v128.load(s2 + k), 2, 1, 0, 3); // z2 z1 z0 z3
    v128.store(dst, i32x4.shuffle(i32x4.shuffle(x, y, 0, 5, 2, 3), z, 0, 1, 6, 3)); // x0 y0 z0 x1
    v128.store(dst, i32x4.shuffle(i32x4.shuffle(y, z, 0, 5, 2, 3), x, 0, 1, 6, 3), 16); // y1 z1 x2 y2
    v128.store(dst, i32x4.shuffle(i32x4.shuffle(z, x, 0, 5, 2, 3), y, 0, 1, 6, 3), 32); // z2 x3 y3 z3
    dst += 48;
  }
  for (; k < bytes; k += 4) {
    store<u32>(dst, load<u32>(s0 + k));
    store<u32>(dst, load<u32>(s1 + k), 4);
    store<u32>(dst, load<u32>(s2 + k), 8);
    dst += 12;
  }
  return dst;
}

/**
 * Pack rows a.. (rowBytes apart; `rows` of them, 1 to 3) k-major into dst: 3 floats per k. A block of 1 or
 * 2 rows repeats its last row in the missing slots: the tiles compute those lanes but never store them.
 */
function packA(a: usize, rowBytes: usize, rows: i32, K: i32, dst: usize): void {
  const a1 = rows > 1 ? a + rowBytes : a;
  const a2 = rows > 2 ? a1 + rowBytes : a1;
  interleave3(a, a1, a2, <usize>K << 2, dst);
}

/** One 3x12 tile: packed rows ap against panel p; writes `rows` rows (1 to 3) at o, outRowBytes apart. */
function tile3(ap: usize, K: i32, p: usize, o: usize, outRowBytes: usize, valid: i32, rows: i32, relu: i32): void {
  let c00 = v128.load(p);
  let c01 = v128.load(p, 16);
  let c02 = v128.load(p, 32);
  let c10 = c00, c11 = c01, c12 = c02, c20 = c00, c21 = c01, c22 = c02;
  let b = p + 48;
  let a = ap;
  const end = b + <usize>K * 48;
  while (b < end) {
    const b0 = v128.load(b);
    const b1 = v128.load(b, 16);
    const b2 = v128.load(b, 32);
    let x = v128.load32_splat(a);
    c00 = madd(x, b0, c00);
    c01 = madd(x, b1, c01);
    c02 = madd(x, b2, c02);
    x = v128.load32_splat(a, 4);
    c10 = madd(x, b0, c10);
    c11 = madd(x, b1, c11);
    c12 = madd(x, b2, c12);
    x = v128.load32_splat(a, 8);
    c20 = madd(x, b0, c20);
    c21 = madd(x, b1, c21);
    c22 = madd(x, b2, c22);
    b += 48;
    a += 12;
  }
  storeRow(o, c00, c01, c02, valid, relu);
  if (rows > 1) storeRow(o + outRowBytes, c10, c11, c12, valid, relu);
  if (rows > 2) storeRow(o + 2 * outRowBytes, c20, c21, c22, valid, relu);
}

/**
 * A block of 1 or 2 rows (packed in 3-row slots): 2x12, 6 accumulators. Its two rows of multiply-adds
 * take 2/3 of the 3x12 tile's time per k where a 3x12 tile on 2 rows would take all of it.
 */
function tile2(ap: usize, K: i32, p: usize, o: usize, outRowBytes: usize, valid: i32, rows: i32, relu: i32): void {
  let c00 = v128.load(p);
  let c01 = v128.load(p, 16);
  let c02 = v128.load(p, 32);
  let c10 = c00, c11 = c01, c12 = c02;
  let b = p + 48;
  let a = ap;
  const end = b + <usize>K * 48;
  while (b < end) {
    const b0 = v128.load(b);
    const b1 = v128.load(b, 16);
    const b2 = v128.load(b, 32);
    let x = v128.load32_splat(a);
    c00 = madd(x, b0, c00);
    c01 = madd(x, b1, c01);
    c02 = madd(x, b2, c02);
    x = v128.load32_splat(a, 4);
    c10 = madd(x, b0, c10);
    c11 = madd(x, b1, c11);
    c12 = madd(x, b2, c12);
    b += 48;
    a += 12;
  }
  storeRow(o, c00, c01, c02, valid, relu);
  if (rows > 1) storeRow(o + outRowBytes, c10, c11, c12, valid, relu);
}

/** Tail panel of at most 8 valid channels: 3x8 (6 accumulators), the third weight vector never loaded. */
function tile3x8(ap: usize, K: i32, p: usize, o: usize, outRowBytes: usize, valid: i32, rows: i32, relu: i32): void {
  let c00 = v128.load(p);
  let c01 = v128.load(p, 16);
  let c10 = c00, c11 = c01, c20 = c00, c21 = c01;
  const z = f32x4.splat(0);
  let b = p + 48;
  let a = ap;
  const end = b + <usize>K * 48;
  while (b < end) {
    const b0 = v128.load(b);
    const b1 = v128.load(b, 16);
    let x = v128.load32_splat(a);
    c00 = madd(x, b0, c00);
    c01 = madd(x, b1, c01);
    x = v128.load32_splat(a, 4);
    c10 = madd(x, b0, c10);
    c11 = madd(x, b1, c11);
    x = v128.load32_splat(a, 8);
    c20 = madd(x, b0, c20);
    c21 = madd(x, b1, c21);
    b += 48;
    a += 12;
  }
  storeRow(o, c00, c01, z, valid, relu);
  if (rows > 1) storeRow(o + outRowBytes, c10, c11, z, valid, relu);
  if (rows > 2) storeRow(o + 2 * outRowBytes, c20, c21, z, valid, relu);
}

/** Tail panel of at most 4 valid channels: 3x4. */
function tile3x4(ap: usize, K: i32, p: usize, o: usize, outRowBytes: usize, valid: i32, rows: i32, relu: i32): void {
  let c0 = v128.load(p);
  let c1 = c0, c2 = c0;
  const z = f32x4.splat(0);
  let b = p + 48;
  let a = ap;
  const end = b + <usize>K * 48;
  while (b < end) {
    const b0 = v128.load(b);
    c0 = madd(v128.load32_splat(a), b0, c0);
    c1 = madd(v128.load32_splat(a, 4), b0, c1);
    c2 = madd(v128.load32_splat(a, 8), b0, c2);
    b += 48;
    a += 12;
  }
  storeRow(o, c0, z, z, valid, relu);
  if (rows > 1) storeRow(o + outRowBytes, c1, z, z, valid, relu);
  if (rows > 2) storeRow(o + 2 * outRowBytes, c2, z, z, valid, relu);
}

/**
 * Tail panel of at most 4 valid channels for two packed blocks at once (rows0 at ap0, rows1 at ap1): 6x4.
 * Alone, the 3x4 tile's three accumulators wait on the multiply-add latency and take almost as long as a
 * full 3x12 panel; six chains keep the units busy for twice the rows.
 */
function tile6x4(ap0: usize, ap1: usize, K: i32, p: usize, o: usize, outRowBytes: usize, valid: i32, rows0: i32, rows1: i32, relu: i32): void {
  let c0 = v128.load(p);
  let c1 = c0, c2 = c0, c3 = c0, c4 = c0, c5 = c0;
  const z = f32x4.splat(0);
  let b = p + 48;
  let a = ap0;
  let e = ap1;
  const end = b + <usize>K * 48;
  while (b < end) {
    const b0 = v128.load(b);
    c0 = madd(v128.load32_splat(a), b0, c0);
    c1 = madd(v128.load32_splat(a, 4), b0, c1);
    c2 = madd(v128.load32_splat(a, 8), b0, c2);
    c3 = madd(v128.load32_splat(e), b0, c3);
    c4 = madd(v128.load32_splat(e, 4), b0, c4);
    c5 = madd(v128.load32_splat(e, 8), b0, c5);
    b += 48;
    a += 12;
    e += 12;
  }
  storeRow(o, c0, z, z, valid, relu);
  storeRow(o + outRowBytes, c1, z, z, valid, relu);
  if (rows0 > 2) storeRow(o + 2 * outRowBytes, c2, z, z, valid, relu);
  const o1 = o + <usize>rows0 * outRowBytes;
  storeRow(o1, c3, z, z, valid, relu);
  if (rows1 > 1) storeRow(o1 + outRowBytes, c4, z, z, valid, relu);
  if (rows1 > 2) storeRow(o1 + 2 * outRowBytes, c5, z, z, valid, relu);
}

/**
 * The panels j0..j1 of up to two packed blocks of output rows: rows0 (1 to 3) rows packed at ap and, when
 * rows1 > 0 (then rows0 >= 2), rows1 more packed right after them (3 * K floats on), written at o,
 * outRowBytes apart. Each panel runs for both blocks in turn, so its weights come from L1 the second time.
 * A block of 3 rows runs the 3x12 tile, a block of 1 or 2 the 2x12 one.
 */
function panels(ap: usize, K: i32, packed: usize, Cout: i32, j0: i32, j1: i32, o: usize, outRowBytes: usize, rows0: i32, rows1: i32, relu: i32): void {
  const panelBytes = <usize>(K + 1) * (NR << 2);
  const ap1 = ap + <usize>K * 12;
  const o1 = o + <usize>rows0 * outRowBytes;
  for (let j = j0; j < j1; j++) {
    const valid = Cout - j * NR;
    const p = packed + <usize>j * panelBytes;
    const cj = <usize>(j * NR) << 2;
    if (valid > 8 && !ASC_FEATURE_RELAXED_SIMD) {
      // Plain SIMD128: a multiply then an add needs a temporary beside the 3x12 tile's 9 accumulators and
      // 3 weight vectors, more than V8 keeps in registers (it ran at 43-47 % of the plain peak). Channels
      // 0-7 as 3x8 tiles, 8-11 as one 6x4 tile (or 3x4) over the panel's third weight vector; the same
      // sums in the same order.
      tile3x8(ap, K, p, o + cj, outRowBytes, 8, rows0, relu);
      if (rows1 > 0) {
        tile3x8(ap1, K, p, o1 + cj, outRowBytes, 8, rows1, relu);
        tile6x4(ap, ap1, K, p + 32, o + cj + 32, outRowBytes, valid - 8, rows0, rows1, relu);
      } else {
        tile3x4(ap, K, p + 32, o + cj + 32, outRowBytes, valid - 8, rows0, relu);
      }
    } else if (valid > 8) {
      if (rows0 > 2) tile3(ap, K, p, o + cj, outRowBytes, valid, rows0, relu);
      else tile2(ap, K, p, o + cj, outRowBytes, valid, rows0, relu);
      if (rows1 > 2) tile3(ap1, K, p, o1 + cj, outRowBytes, valid, rows1, relu);
      else if (rows1 > 0) tile2(ap1, K, p, o1 + cj, outRowBytes, valid, rows1, relu);
    } else if (valid > 4) {
      tile3x8(ap, K, p, o + cj, outRowBytes, valid, rows0, relu);
      if (rows1 > 0) tile3x8(ap1, K, p, o1 + cj, outRowBytes, valid, rows1, relu);
    } else if (rows1 > 0) {
      tile6x4(ap, ap1, K, p, o + cj, outRowBytes, valid, rows0, rows1, relu);
    } else {
      tile3x4(ap, K, p, o + cj, outRowBytes, valid, rows0, relu);
    }
  }
}

/** Pack rows0 (1 to 3) rows at a and, if rows1 > 0, rows1 more after them, as the two blocks `panels` takes. */
// @ts-ignore: decorator
@inline function packPair(a: usize, rowBytes: usize, rows0: i32, rows1: i32, K: i32, dst: usize): void {
  packA(a, rowBytes, rows0, K, dst);
  if (rows1 > 0) packA(a + <usize>rows0 * rowBytes, rowBytes, rows1, K, dst + <usize>K * 12);
}

/**
 * rows x panels of C from A (rows lda floats apart) and packed B panels j0..j1.
 * out points at row 0, channel 0 of this block's output (already offset by outOff).
 * apack: 6 * K floats of the calling thread's scratch for the packed rows.
 * Rows are the outer loop: 6 packed rows stay in L1 while the weight panels stream past them.
 */
export function gemm(
  A: usize, lda: i32, rows: i32, K: i32,
  packed: usize, Cout: i32, j0: i32, j1: i32,
  out: usize, outStride: i32, relu: i32, apack: usize,
): void {
  const rowBytes = <usize>lda << 2;
  const outRowBytes = <usize>outStride << 2;
  for (let i = 0; i < rows; i += 2 * MR) {
    const r0 = firstRows(rows - i), r1 = imin(MR, rows - i - r0);
    packPair(A + <usize>i * rowBytes, rowBytes, r0, r1, K, apack);
    panels(apack, K, packed, Cout, j0, j1, out + <usize>i * outRowBytes, outRowBytes, r0, r1, relu);
  }
}

/**
 * im2col of output rows m..m+rows-1 (rows 1 to 3, flattened over n, oy, ox) straight into the GEMM's packed
 * layout: for each k = (ky, kx, c), the rows' three values side by side; padding and missing rows are zero.
 */
export function im2colPacked(
  inp: usize, H: i32, W: i32, C: i32,
  OH: i32, OW: i32, KH: i32, KW: i32, SH: i32, SW: i32, padT: i32, padL: i32,
  m: i32, rows: i32, dst: usize,
): void {
  const plane = OH * OW;
  const pixBytes = <usize>C << 2;
  // Per row: image n, the input corner of its window.
  const n0 = m / plane, r0 = m - n0 * plane, y0 = (r0 / OW) * SH - padT, x0 = (r0 % OW) * SW - padL;
  const m1 = imin(m + 1, m + rows - 1), m2 = imin(m + 2, m + rows - 1);
  const n1 = m1 / plane, r1 = m1 - n1 * plane, y1 = (r1 / OW) * SH - padT, x1 = (r1 % OW) * SW - padL;
  const n2 = m2 / plane, r2 = m2 - n2 * plane, y2 = (r2 / OW) * SH - padT, x2 = (r2 % OW) * SW - padL;
  const runBytes = <usize>KW * pixBytes;
  // Rows whose windows lie inside the image horizontally (the common case) copy each kernel row as one run.
  const xin = x0 >= 0 && x0 + KW <= W && x1 >= 0 && x1 + KW <= W && x2 >= 0 && x2 + KW <= W;
  let d = dst;
  if (rows == 3 && xin && y0 >= 0 && y0 + KH <= H && y1 >= 0 && y1 + KH <= H && y2 >= 0 && y2 + KH <= H) {
    // Three whole windows: KH runs each, one image row apart.
    const rowBytes = <usize>W * pixBytes;
    let s0 = inp + <usize>((n0 * H + y0) * W + x0) * pixBytes;
    let s1 = inp + <usize>((n1 * H + y1) * W + x1) * pixBytes;
    let s2 = inp + <usize>((n2 * H + y2) * W + x2) * pixBytes;
    for (let ky = 0; ky < KH; ky++) {
      d = interleave3(s0, s1, s2, runBytes, d);
      s0 += rowBytes;
      s1 += rowBytes;
      s2 += rowBytes;
    }
    return;
  }
  for (let ky = 0; ky < KH; ky++) {
    const yok0 = y0 + ky >= 0 && y0 + ky < H;
    const yok1 = rows > 1 && y1 + ky >= 0 && y1 + ky < H;
    const yok2 = rows > 2 && y2 + ky >= 0 && y2 + ky < H;
    if (xin && yok0 && yok1 && yok2) {
      const s0 = inp + <usize>((n0 * H + y0 + ky) * W + x0) * pixBytes;
      const s1 = inp + <usize>((n1 * H + y1 + ky) * W + x1) * pixBytes;
      const s2 = inp + <usize>((n2 * H + y2 + ky) * W + x2) * pixBytes;
      d = interleave3(s0, s1, s2, runBytes, d);
      continue;
    }
    for (let kx = 0; kx < KW; kx++) {
      // A row outside the image (or past `rows`) reads nothing: its pointer stays valid, its value is 0.
      const ok0 = yok0 && x0 + kx >= 0 && x0 + kx < W;
      const ok1 = yok1 && x1 + kx >= 0 && x1 + kx < W;
      const ok2 = yok2 && x2 + kx >= 0 && x2 + kx < W;
      const s0 = ok0 ? inp + <usize>((n0 * H + y0 + ky) * W + x0 + kx) * pixBytes : inp;
      const s1 = ok1 ? inp + <usize>((n1 * H + y1 + ky) * W + x1 + kx) * pixBytes : inp;
      const s2 = ok2 ? inp + <usize>((n2 * H + y2 + ky) * W + x2 + kx) * pixBytes : inp;
      for (let c: usize = 0; c < pixBytes; c += 4) {
        const v0 = load<u32>(s0 + c);
        const v1 = load<u32>(s1 + c);
        const v2 = load<u32>(s2 + c);
        store<u32>(d, ok0 ? v0 : 0);
        store<u32>(d, ok1 ? v1 : 0, 4);
        store<u32>(d, ok2 ? v2 : 0, 8);
        d += 12;
      }
    }
  }
}

/**
 * Convolution of output rows m0..m1 (flattened over N*OH*OW) and output panels j0..j1:
 * a 1x1 stride-1 unpadded convolution is a GEMM on the input pixels as they are; others gather their
 * windows (im2colPacked), 6 rows at a time into `scratch` (6 * KH*KW*C floats owned by the calling thread),
 * then run every panel.
 */
export function conv2d(
  inp: usize, H: i32, W: i32, C: i32,
  out: usize, OH: i32, OW: i32, outStride: i32, outOff: i32,
  packed: usize, Cout: i32, KH: i32, KW: i32, SH: i32, SW: i32, padT: i32, padL: i32, relu: i32,
  scratch: usize, m0: i32, m1: i32, j0: i32, j1: i32,
): void {
  const K = KH * KW * C;
  const outBase = out + (<usize>outOff << 2);
  const outRowBytes = <usize>outStride << 2;
  if (KH == 1 && KW == 1 && SH == 1 && SW == 1 && padT == 0 && padL == 0) {
    gemm(inp + (<usize>m0 * <usize>C << 2), C, m1 - m0, K, packed, Cout, j0, j1, outBase + <usize>m0 * outRowBytes, outStride, relu, scratch);
    return;
  }
  const second = scratch + <usize>K * 12;
  for (let m = m0; m < m1; m += 2 * MR) {
    const r0 = firstRows(m1 - m), r1 = imin(MR, m1 - m - r0);
    im2colPacked(inp, H, W, C, OH, OW, KH, KW, SH, SW, padT, padL, m, r0, scratch);
    if (r1 > 0) im2colPacked(inp, H, W, C, OH, OW, KH, KW, SH, SW, padT, padL, m + r0, r1, second);
    panels(scratch, K, packed, Cout, j0, j1, outBase + <usize>m * outRowBytes, outRowBytes, r0, r1, relu);
  }
}

/**
 * Up to three 1x1 stride-1 convolutions of one input (an inception block's branch heads) as one GEMM over
 * their concatenated panels: rows m0..m1 of the input (C floats per pixel) are packed once per 6 rows and
 * every panel of every convolution runs against them. Panels are numbered across the convolutions (the
 * first's, then the second's, ...), and j0..j1 picks a range of them, so a thread pool splits the fused
 * step like one convolution. Convolution s has packed weights ws, Cout ns (0: absent), and writes at byte
 * address os (its tensor plus its channel offset) into pixels ss channels apart. Each output is computed
 * exactly as conv2d computes it.
 */
export function conv1x1multi(
  inp: usize, C: i32, relu: i32, scratch: usize, m0: i32, m1: i32, j0: i32, j1: i32,
  w0: usize, n0: i32, o0: usize, s0: i32,
  w1: usize, n1: i32, o1: usize, s1: i32,
  w2: usize, n2: i32, o2: usize, s2: i32,
): void {
  const rowBytes = <usize>C << 2;
  const p0 = (n0 + NR - 1) / NR, p1 = (n1 + NR - 1) / NR, p2 = (n2 + NR - 1) / NR;
  // Each convolution's own panel range within j0..j1.
  const a0 = imin(j0, p0), b0 = imin(j1, p0);
  const a1 = imin(imax(j0 - p0, 0), p1), b1 = imin(imax(j1 - p0, 0), p1);
  const a2 = imin(imax(j0 - p0 - p1, 0), p2), b2 = imin(imax(j1 - p0 - p1, 0), p2);
  const ob0 = <usize>s0 << 2, ob1 = <usize>s1 << 2, ob2 = <usize>s2 << 2;
  for (let m = m0; m < m1; m += 2 * MR) {
    const r0 = firstRows(m1 - m), r1 = imin(MR, m1 - m - r0);
    packPair(inp + <usize>m * rowBytes, rowBytes, r0, r1, C, scratch);
    if (a0 < b0) panels(scratch, C, w0, n0, a0, b0, o0 + <usize>m * ob0, ob0, r0, r1, relu);
    if (a1 < b1) panels(scratch, C, w1, n1, a1, b1, o1 + <usize>m * ob1, ob1, r0, r1, relu);
    if (a2 < b2) panels(scratch, C, w2, n2, a2, b2, o2 + <usize>m * ob2, ob2, r0, r1, relu);
  }
}

/**
 * Scalar reference: direct convolution, weights HWIO [KH][KW][C][Cout] unpacked, bias [Cout].
 * Rows m0..m1 of the output as conv2d; same summation order (bias, then k = (ky, kx, c) ascending,
 * padding contributing nothing).
 */
export function conv2d_ref(
  inp: usize, H: i32, W: i32, C: i32,
  out: usize, OH: i32, OW: i32, outStride: i32, outOff: i32,
  weights: usize, bias: usize, Cout: i32, KH: i32, KW: i32, SH: i32, SW: i32, padT: i32, padL: i32, relu: i32,
  N: i32,
): void {
  for (let n = 0; n < N; n++) {
    for (let oy = 0; oy < OH; oy++) {
      for (let ox = 0; ox < OW; ox++) {
        const o = out + (<usize>(((n * OH + oy) * OW + ox) * outStride + outOff) << 2);
        for (let co = 0; co < Cout; co++) {
          let acc = load<f32>(bias + (<usize>co << 2));
          for (let ky = 0; ky < KH; ky++) {
            const iy = oy * SH - padT + ky;
            for (let kx = 0; kx < KW; kx++) {
              const ix = ox * SW - padL + kx;
              for (let c = 0; c < C; c++) {
                let x: f32 = 0;
                if (iy >= 0 && iy < H && ix >= 0 && ix < W) {
                  x = load<f32>(inp + (<usize>(((n * H + iy) * W + ix) * C + c) << 2));
                }
                const w = load<f32>(weights + (<usize>(((ky * KW + kx) * C + c) * Cout + co) << 2));
                acc += x * w;
              }
            }
          }
          if (relu && acc < 0) acc = 0;
          store<f32>(o + (<usize>co << 2), acc);
        }
      }
    }
  }
}
