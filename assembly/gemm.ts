// Convolution as im2col + packed GEMM, NHWC.
//
// C[m][n] = bias[n] + sum_k A[m][k] * B[k][n], m = output pixel (n, oy, ox), k = (ky, kx, ci), n = output channel.
// B is packed once at load into panels of NR = 8 output channels: panel j holds 8 biases, then K rows of
// 8 weights (zero-padded past Cout). The 6x8 micro-kernel keeps 12 accumulators + 2 weight vectors + 1
// broadcast = 15 live v128 values (16 with the product of the non-FMA build): it fits V8's 16 xmm
// registers, and measured here (Xeon, relaxed FMA) it runs at ~40 GFLOP/s in L1 against ~33 for 4x8,
// whose loop overhead per FMA is higher. Leftover rows take a 4x8 then a 1x8 kernel.
// The epilogue adds ReLU and stores at `outOff` channels into pixels `outStride` channels apart, so an
// inception branch writes straight into its slice of the concatenated output.
//
// Each output element is a sum over k in order 0..K-1 starting from the bias, whatever the tiling, so
// results do not depend on how rows and panels are split between threads.
import { madd, imin } from './common';

export const NR: i32 = 8;
export const MR: i32 = 6;

// @ts-ignore: decorator
@inline function storeTile(o: usize, c0: v128, c1: v128, valid: i32, relu: i32): void {
  if (relu) {
    const z = f32x4.splat(0);
    // pmax(0, c) = 0 < c ? c : 0, as the scalar reference; one maxps (f32x4.max costs V8 several).
    c0 = f32x4.pmax(z, c0);
    c1 = f32x4.pmax(z, c1);
  }
  if (valid >= 8) {
    v128.store(o, c0);
    v128.store(o, c1, 16);
  } else {
    // Tail panel (Cout not a multiple of 8): store lane by lane.
    if (valid > 0) store<f32>(o, f32x4.extract_lane(c0, 0));
    if (valid > 1) store<f32>(o, f32x4.extract_lane(c0, 1), 4);
    if (valid > 2) store<f32>(o, f32x4.extract_lane(c0, 2), 8);
    if (valid > 3) store<f32>(o, f32x4.extract_lane(c0, 3), 12);
    if (valid > 4) store<f32>(o, f32x4.extract_lane(c1, 0), 16);
    if (valid > 5) store<f32>(o, f32x4.extract_lane(c1, 1), 20);
    if (valid > 6) store<f32>(o, f32x4.extract_lane(c1, 2), 24);
  }
}

/** One 6x8 tile: rows a0.. (rowBytes apart) against panel p; writes at o (outRowBytes apart). */
function tile6(a0: usize, rowBytes: usize, K: i32, p: usize, o: usize, outRowBytes: usize, valid: i32, relu: i32): void {
  const a1 = a0 + rowBytes;
  const a2 = a1 + rowBytes;
  const a3 = a2 + rowBytes;
  const a4 = a3 + rowBytes;
  const a5 = a4 + rowBytes;
  let c00 = v128.load(p);
  let c01 = v128.load(p, 16);
  let c10 = c00, c11 = c01, c20 = c00, c21 = c01, c30 = c00, c31 = c01, c40 = c00, c41 = c01, c50 = c00, c51 = c01;
  let b = p + 32;
  for (let k: usize = 0, kb: usize = <usize>K << 2; k < kb; k += 4) {
    const b0 = v128.load(b);
    const b1 = v128.load(b, 16);
    let a = v128.load32_splat(a0 + k);
    c00 = madd(a, b0, c00);
    c01 = madd(a, b1, c01);
    a = v128.load32_splat(a1 + k);
    c10 = madd(a, b0, c10);
    c11 = madd(a, b1, c11);
    a = v128.load32_splat(a2 + k);
    c20 = madd(a, b0, c20);
    c21 = madd(a, b1, c21);
    a = v128.load32_splat(a3 + k);
    c30 = madd(a, b0, c30);
    c31 = madd(a, b1, c31);
    a = v128.load32_splat(a4 + k);
    c40 = madd(a, b0, c40);
    c41 = madd(a, b1, c41);
    a = v128.load32_splat(a5 + k);
    c50 = madd(a, b0, c50);
    c51 = madd(a, b1, c51);
    b += 32;
  }
  storeTile(o, c00, c01, valid, relu);
  storeTile(o + outRowBytes, c10, c11, valid, relu);
  storeTile(o + 2 * outRowBytes, c20, c21, valid, relu);
  storeTile(o + 3 * outRowBytes, c30, c31, valid, relu);
  storeTile(o + 4 * outRowBytes, c40, c41, valid, relu);
  storeTile(o + 5 * outRowBytes, c50, c51, valid, relu);
}

/** One 4x8 tile (leftover rows). */
function tile4(a0: usize, rowBytes: usize, K: i32, p: usize, o: usize, outRowBytes: usize, valid: i32, relu: i32): void {
  const a1 = a0 + rowBytes;
  const a2 = a1 + rowBytes;
  const a3 = a2 + rowBytes;
  let c00 = v128.load(p);
  let c01 = v128.load(p, 16);
  let c10 = c00, c11 = c01, c20 = c00, c21 = c01, c30 = c00, c31 = c01;
  let b = p + 32;
  for (let k: usize = 0, kb: usize = <usize>K << 2; k < kb; k += 4) {
    const b0 = v128.load(b);
    const b1 = v128.load(b, 16);
    let a = v128.load32_splat(a0 + k);
    c00 = madd(a, b0, c00);
    c01 = madd(a, b1, c01);
    a = v128.load32_splat(a1 + k);
    c10 = madd(a, b0, c10);
    c11 = madd(a, b1, c11);
    a = v128.load32_splat(a2 + k);
    c20 = madd(a, b0, c20);
    c21 = madd(a, b1, c21);
    a = v128.load32_splat(a3 + k);
    c30 = madd(a, b0, c30);
    c31 = madd(a, b1, c31);
    b += 32;
  }
  storeTile(o, c00, c01, valid, relu);
  storeTile(o + outRowBytes, c10, c11, valid, relu);
  storeTile(o + 2 * outRowBytes, c20, c21, valid, relu);
  storeTile(o + 3 * outRowBytes, c30, c31, valid, relu);
}

/** One 1x8 tile (leftover rows). */
function tile1(a0: usize, K: i32, p: usize, o: usize, valid: i32, relu: i32): void {
  let c00 = v128.load(p);
  let c01 = v128.load(p, 16);
  let b = p + 32;
  for (let k: usize = 0, kb: usize = <usize>K << 2; k < kb; k += 4) {
    const a = v128.load32_splat(a0 + k);
    c00 = madd(a, v128.load(b), c00);
    c01 = madd(a, v128.load(b, 16), c01);
    b += 32;
  }
  storeTile(o, c00, c01, valid, relu);
}

/**
 * rows x panels of C from A (rows lda floats apart) and packed B panels j0..j1.
 * out points at row 0, channel 0 of this block's output (already offset by outOff).
 * Rows are the outer loop: a 6-row slice of A (6 x K floats) stays in L1 while the weight panels
 * stream past it, which measured ~2x faster than panels outer (A re-read from L2 for every panel).
 */
export function gemm(
  A: usize, lda: i32, rows: i32, K: i32,
  packed: usize, Cout: i32, j0: i32, j1: i32,
  out: usize, outStride: i32, relu: i32,
): void {
  const panelBytes = <usize>(K + 1) * 32;
  const rowBytes = <usize>lda << 2;
  const outRowBytes = <usize>outStride << 2;
  let i = 0;
  for (; i + 6 <= rows; i += 6) {
    const a = A + <usize>i * rowBytes;
    const o = out + <usize>i * outRowBytes;
    for (let j = j0; j < j1; j++) {
      tile6(a, rowBytes, K, packed + <usize>j * panelBytes, o + (<usize>(j * NR) << 2), outRowBytes, Cout - j * NR, relu);
    }
  }
  for (; i + 4 <= rows; i += 4) {
    const a = A + <usize>i * rowBytes;
    const o = out + <usize>i * outRowBytes;
    for (let j = j0; j < j1; j++) {
      tile4(a, rowBytes, K, packed + <usize>j * panelBytes, o + (<usize>(j * NR) << 2), outRowBytes, Cout - j * NR, relu);
    }
  }
  for (; i < rows; i++) {
    const a = A + <usize>i * rowBytes;
    const o = out + <usize>i * outRowBytes;
    for (let j = j0; j < j1; j++) {
      tile1(a, K, packed + <usize>j * panelBytes, o + (<usize>(j * NR) << 2), Cout - j * NR, relu);
    }
  }
}

/**
 * im2col rows m0..m1 (flattened n, oy, ox) into dst, K = KH*KW*C floats per row, order (ky, kx, c).
 * Padding positions are zero. For each ky the in-range kx run is contiguous in NHWC: one copy.
 */
export function im2col(
  inp: usize, H: i32, W: i32, C: i32,
  OH: i32, OW: i32, KH: i32, KW: i32, SH: i32, SW: i32, padT: i32, padL: i32,
  m0: i32, m1: i32, dst: usize,
): void {
  const K = KH * KW * C;
  const pixBytes = <usize>C << 2;
  const plane = OH * OW;
  for (let m = m0; m < m1; m++) {
    const n = m / plane;
    const r = m - n * plane;
    const oy = r / OW;
    const ox = r - oy * OW;
    const ix0 = ox * SW - padL;
    const kx0 = ix0 < 0 ? -ix0 : 0;
    const kx1 = imin(KW, W - ix0);
    let d = dst + (<usize>(m - m0) * <usize>K << 2);
    for (let ky = 0; ky < KH; ky++) {
      const iy = oy * SH - padT + ky;
      if (iy < 0 || iy >= H || kx1 <= kx0) {
        memory.fill(d, 0, <usize>KW * pixBytes);
      } else {
        if (kx0 > 0) memory.fill(d, 0, <usize>kx0 * pixBytes);
        const src = inp + ((<usize>((n * H + iy) * W + ix0 + kx0)) * pixBytes);
        memory.copy(d + <usize>kx0 * pixBytes, src, <usize>(kx1 - kx0) * pixBytes);
        if (kx1 < KW) memory.fill(d + <usize>kx1 * pixBytes, 0, <usize>(KW - kx1) * pixBytes);
      }
      d += <usize>KW * pixBytes;
    }
  }
}

/**
 * Convolution of output rows m0..m1 (flattened over N*OH*OW) and output panels j0..j1.
 * 1x1 stride-1 unpadded convolutions read the input as A directly; others go through im2col in blocks
 * of `mc` rows into `scratch` (mc * KH*KW*C floats, owned by the calling thread).
 */
export function conv2d(
  inp: usize, H: i32, W: i32, C: i32,
  out: usize, OH: i32, OW: i32, outStride: i32, outOff: i32,
  packed: usize, Cout: i32, KH: i32, KW: i32, SH: i32, SW: i32, padT: i32, padL: i32, relu: i32,
  scratch: usize, mc: i32, m0: i32, m1: i32, j0: i32, j1: i32,
): void {
  const K = KH * KW * C;
  const direct = KH == 1 && KW == 1 && SH == 1 && SW == 1 && padT == 0 && padL == 0;
  const outBase = out + (<usize>outOff << 2);
  for (let mb = m0; mb < m1; mb += mc) {
    const me = imin(mb + mc, m1);
    let A: usize;
    if (direct) {
      A = inp + (<usize>mb * <usize>C << 2);
    } else {
      im2col(inp, H, W, C, OH, OW, KH, KW, SH, SW, padT, padL, mb, me, scratch);
      A = scratch;
    }
    gemm(A, K, me - mb, K, packed, Cout, j0, j1, outBase + (<usize>mb * <usize>outStride << 2), outStride, relu);
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
          if (relu && !(acc > 0)) acc = 0;
          store<f32>(o + (<usize>co << 2), acc);
        }
      }
    }
  }
}
