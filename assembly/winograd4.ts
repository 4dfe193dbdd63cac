// Winograd on 6 points (0, +-1, +-2, inf), NHWC: F(4x4, 3x3) for stride-1 3x3 convolutions and F(2x2, 5x5)
// for stride-1 5x5 ones (GoogLeNet's 5x5 branches), which share the input transform B^T d B of 6x6 patches.
// F(4x4, 3x3): 4x4 output tiles from 6x6 input patches,
// 36 multiplies per 16 outputs (4x fewer than direct, against 2.25x for F(2x2, 3x3)), at the price of
// larger transforms and more rounding (interpolation points 0, +-1, +-2, inf). Same structure as
// winograd.ts: tiles in blocks through per-thread scratch (V: 36*tb*C floats, M: 36*tb*Cout floats,
// after 72 vectors of transform temporaries, then 6*C for the GEMM's packed rows), any split of tiles and output panels gives the same result.
//
//   B^T = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0; 0 -2 -1 2 1 0; 0 2 -1 -2 1 0; 0 4 0 -5 0 1]
//   A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1]
import { gemm, NR } from './gemm';
import { imin, loadLanes, storeLanes } from './common';

/** The six rows of B^T applied to six vectors, stored at o, o + st, ..., o + 5 st. */
// @ts-ignore: decorator
@inline function bt(d0: v128, d1: v128, d2: v128, d3: v128, d4: v128, d5: v128, o: usize, st: usize): void {
  v128.store(o, f32x4.add(f32x4.sub(f32x4.mul(d0, f32x4.splat(4.0)), f32x4.mul(d2, f32x4.splat(5.0))), d4));
  v128.store(o + st, f32x4.add(f32x4.add(f32x4.sub(f32x4.neg(f32x4.mul(d1, f32x4.splat(4.0))), f32x4.mul(d2, f32x4.splat(4.0))), d3), d4));
  v128.store(o + 2 * st, f32x4.add(f32x4.sub(f32x4.sub(f32x4.mul(d1, f32x4.splat(4.0)), f32x4.mul(d2, f32x4.splat(4.0))), d3), d4));
  v128.store(o + 3 * st, f32x4.add(f32x4.add(f32x4.sub(f32x4.neg(f32x4.mul(d1, f32x4.splat(2.0))), d2), f32x4.mul(d3, f32x4.splat(2.0))), d4));
  v128.store(o + 4 * st, f32x4.add(f32x4.sub(f32x4.sub(f32x4.mul(d1, f32x4.splat(2.0)), d2), f32x4.mul(d3, f32x4.splat(2.0))), d4));
  v128.store(o + 5 * st, f32x4.add(f32x4.sub(f32x4.mul(d1, f32x4.splat(4.0)), f32x4.mul(d3, f32x4.splat(5.0))), d5));
}

/**
 * B^T d B for one 4-channel vector: d[i][j] at src + i*rs + j*cs (a 6x6 patch of the image itself, or 36
 * vectors gathered row-major at tmp: rs = 96, cs = 16), result stored at v + xi*vs; t = B^T d goes to tmp.
 */
// @ts-ignore: decorator
@inline function transformIn(src: usize, rs: usize, cs: usize, tmp: usize, v: usize, vs: usize): void {
  // Rows: t = B^T d, column by column (6 columns, each a 6-vector down the rows), into tmp.
  for (let j: usize = 0; j < 6; j++) {
    const s = src + j * cs;
    bt(v128.load(s), v128.load(s + rs), v128.load(s + 2 * rs), v128.load(s + 3 * rs), v128.load(s + 4 * rs), v128.load(s + 5 * rs), tmp + (j << 4), 96);
  }
  // Columns: V = t B, row by row; V[i*6 + j] goes to v + (i*6 + j) * vs.
  for (let i: usize = 0; i < 6; i++) {
    const q = tmp + i * 96;
    bt(v128.load(q), v128.load(q, 16), v128.load(q, 32), v128.load(q, 48), v128.load(q, 64), v128.load(q, 80), v + i * 6 * vs, vs);
  }
}

/**
 * V for tiles tbeg..tend: the 6x6 input patch of each tile (tiles `step` pixels apart: 4 for F(4x4, 3x3),
 * 2 for F(2x2, 5x5)), transformed by B^T d B, 4 channels at a time, into 36 matrices of T x C floats at Vb
 * (vs bytes apart). tmp: 72 vectors of scratch.
 */
function inputTiles(
  inp: usize, H: i32, W: i32, C: i32, padT: i32, padL: i32, TW: i32, plane: i32, step: i32,
  tbeg: i32, tend: i32, tmp: usize, Vb: usize, vs: usize,
): void {
  const C4 = C & ~3;
  const pix = <usize>C << 2;
  const z = f32x4.splat(0);
  for (let t = tbeg; t < tend; t++) {
    const n = t / plane;
    const r = t - n * plane;
    const ty = r / TW;
    const tx = r - ty * TW;
    const y0 = step * ty - padT;
    const x0 = step * tx - padL;
    const v = Vb + (<usize>(t - tbeg) * <usize>C << 2);
    const inside = y0 >= 0 && y0 + 6 <= H && x0 >= 0 && x0 + 6 <= W;
    const corner = inp + (<usize>((n * H + y0) * W + x0) * pix);
    for (let c = 0; c < C; c += 4) {
      if (inside && c < C4) {
        // A whole patch: the first pass reads the image directly.
        transformIn(corner + (<usize>c << 2), <usize>W * pix, pix, tmp, v + (<usize>c << 2), vs);
        continue;
      }
      // Gather the 6x6 patch of channels c..c+3 (zero outside the image; past C for the last vector).
      for (let i = 0; i < 6; i++) {
        const iy = y0 + i;
        for (let j = 0; j < 6; j++) {
          const ix = x0 + j;
          let d = z;
          if (inside || (iy >= 0 && iy < H && ix >= 0 && ix < W)) {
            d = loadLanes(inp + (<usize>((n * H + iy) * W + ix) * pix) + (<usize>c << 2), C - c);
          }
          v128.store(tmp + <usize>(i * 6 + j) * 16, d);
        }
      }
      if (c < C4) {
        transformIn(tmp, 96, 16, tmp, v + (<usize>c << 2), vs);
      } else {
        // Channel tail: transform into tmp's own space, then store only the valid lanes.
        for (let xi = 0; xi < 36; xi++) v128.store(tmp + 576 + <usize>xi * 16, z);
        transformIn(tmp, 96, 16, tmp, tmp + 576, 16);
        for (let xi: usize = 0; xi < 36; xi++) storeLanes(v + xi * vs + (<usize>c << 2), v128.load(tmp + 576 + xi * 16), C - c);
      }
    }
  }
}

/**
 * The first two stages for tiles tbeg..tend: V = B^T d B (inputTiles) after two 36-vector temporaries in
 * scratch, then M = V . U for each of the 36 points over the panels j0..j1 (T x Cout floats per point).
 * Returns where M starts; the GEMM packs its rows after it.
 */
function transformMultiply(
  inp: usize, H: i32, W: i32, C: i32, padT: i32, padL: i32, TW: i32, plane: i32, step: i32, tbeg: i32, tend: i32,
  scratch: usize, packed: usize, packedBytes: i32, Cout: i32, j0: i32, j1: i32,
): usize {
  const T = tend - tbeg;
  const vs = <usize>T * <usize>C << 2;
  const ms = <usize>T * <usize>Cout << 2;
  const Vb = scratch + 72 * 16;
  const Mb = Vb + 36 * vs;
  inputTiles(inp, H, W, C, padT, padL, TW, plane, step, tbeg, tend, scratch, Vb, vs);
  for (let xi = 0; xi < 36; xi++) {
    gemm(Vb + <usize>xi * vs, C, T, C, packed + <usize>xi * <usize>packedBytes, Cout, j0, j1, Mb + <usize>xi * ms, Cout, 0, Mb + 36 * ms);
  }
  return Mb;
}

/** Store output pixel y (nb <= 4 channels, bias included) at o, with ReLU. */
// @ts-ignore: decorator
@inline function put(o: usize, y: v128, nb: i32, relu: i32): void {
  storeLanes(o, relu ? f32x4.pmax(f32x4.splat(0), y) : y, nb);
}

// The rows of F(4x4, 3x3)'s A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1] applied to six
// vectors, in a fixed order. F(2x2, 5x5)'s A^T is the first row and the second one plus x5.
// @ts-ignore: decorator
@inline function at0(x0: v128, x1: v128, x2: v128, x3: v128, x4: v128, x5: v128): v128 {
  return f32x4.add(f32x4.add(f32x4.add(f32x4.add(x0, x1), x2), x3), x4);
}
// @ts-ignore: decorator
@inline function at1(x0: v128, x1: v128, x2: v128, x3: v128, x4: v128, x5: v128): v128 {
  return f32x4.sub(f32x4.add(f32x4.sub(x1, x2), f32x4.mul(x3, f32x4.splat(2.0))), f32x4.mul(x4, f32x4.splat(2.0)));
}
// @ts-ignore: decorator
@inline function at2(x0: v128, x1: v128, x2: v128, x3: v128, x4: v128, x5: v128): v128 {
  return f32x4.add(f32x4.add(f32x4.add(x1, x2), f32x4.mul(x3, f32x4.splat(4.0))), f32x4.mul(x4, f32x4.splat(4.0)));
}
// @ts-ignore: decorator
@inline function at3(x0: v128, x1: v128, x2: v128, x3: v128, x4: v128, x5: v128): v128 {
  return f32x4.add(f32x4.sub(f32x4.add(f32x4.sub(x1, x2), f32x4.mul(x3, f32x4.splat(8.0))), f32x4.mul(x4, f32x4.splat(8.0))), x5);
}

/**
 * F(4x4, 3x3) output stage for 4 channels of one tile: Y = A^T M A + b, ReLU, stored at o for the rows x cols
 * of the tile inside the image (rowB / colB bytes between output rows / columns). q: the first of M's 36
 * points (ms bytes apart, row-major 6x6). nb < 4: a channel tail, whose first nb lanes are stored (put).
 */
// @ts-ignore: decorator
@inline function output4x4(q: usize, ms: usize, b: v128, o: usize, rowB: usize, colB: usize, rows: i32, cols: i32, relu: i32, nb: i32): void {
  const m00 = v128.load(q + 0 * ms), m01 = v128.load(q + 1 * ms), m02 = v128.load(q + 2 * ms);
  const m03 = v128.load(q + 3 * ms), m04 = v128.load(q + 4 * ms), m05 = v128.load(q + 5 * ms);
  const m10 = v128.load(q + 6 * ms), m11 = v128.load(q + 7 * ms), m12 = v128.load(q + 8 * ms);
  const m13 = v128.load(q + 9 * ms), m14 = v128.load(q + 10 * ms), m15 = v128.load(q + 11 * ms);
  const m20 = v128.load(q + 12 * ms), m21 = v128.load(q + 13 * ms), m22 = v128.load(q + 14 * ms);
  const m23 = v128.load(q + 15 * ms), m24 = v128.load(q + 16 * ms), m25 = v128.load(q + 17 * ms);
  const m30 = v128.load(q + 18 * ms), m31 = v128.load(q + 19 * ms), m32 = v128.load(q + 20 * ms);
  const m33 = v128.load(q + 21 * ms), m34 = v128.load(q + 22 * ms), m35 = v128.load(q + 23 * ms);
  const m40 = v128.load(q + 24 * ms), m41 = v128.load(q + 25 * ms), m42 = v128.load(q + 26 * ms);
  const m43 = v128.load(q + 27 * ms), m44 = v128.load(q + 28 * ms), m45 = v128.load(q + 29 * ms);
  const m50 = v128.load(q + 30 * ms), m51 = v128.load(q + 31 * ms), m52 = v128.load(q + 32 * ms);
  const m53 = v128.load(q + 33 * ms), m54 = v128.load(q + 34 * ms), m55 = v128.load(q + 35 * ms);
  // s = A^T m (4 x 6), column by column; then y = s A (4 x 4), row by row.
  const s00 = at0(m00, m10, m20, m30, m40, m50), s01 = at0(m01, m11, m21, m31, m41, m51), s02 = at0(m02, m12, m22, m32, m42, m52);
  const s03 = at0(m03, m13, m23, m33, m43, m53), s04 = at0(m04, m14, m24, m34, m44, m54), s05 = at0(m05, m15, m25, m35, m45, m55);
  const s10 = at1(m00, m10, m20, m30, m40, m50), s11 = at1(m01, m11, m21, m31, m41, m51), s12 = at1(m02, m12, m22, m32, m42, m52);
  const s13 = at1(m03, m13, m23, m33, m43, m53), s14 = at1(m04, m14, m24, m34, m44, m54), s15 = at1(m05, m15, m25, m35, m45, m55);
  const s20 = at2(m00, m10, m20, m30, m40, m50), s21 = at2(m01, m11, m21, m31, m41, m51), s22 = at2(m02, m12, m22, m32, m42, m52);
  const s23 = at2(m03, m13, m23, m33, m43, m53), s24 = at2(m04, m14, m24, m34, m44, m54), s25 = at2(m05, m15, m25, m35, m45, m55);
  const s30 = at3(m00, m10, m20, m30, m40, m50), s31 = at3(m01, m11, m21, m31, m41, m51), s32 = at3(m02, m12, m22, m32, m42, m52);
  const s33 = at3(m03, m13, m23, m33, m43, m53), s34 = at3(m04, m14, m24, m34, m44, m54), s35 = at3(m05, m15, m25, m35, m45, m55);
  const y00 = f32x4.add(at0(s00, s01, s02, s03, s04, s05), b), y01 = f32x4.add(at1(s00, s01, s02, s03, s04, s05), b);
  const y02 = f32x4.add(at2(s00, s01, s02, s03, s04, s05), b), y03 = f32x4.add(at3(s00, s01, s02, s03, s04, s05), b);
  const y10 = f32x4.add(at0(s10, s11, s12, s13, s14, s15), b), y11 = f32x4.add(at1(s10, s11, s12, s13, s14, s15), b);
  const y12 = f32x4.add(at2(s10, s11, s12, s13, s14, s15), b), y13 = f32x4.add(at3(s10, s11, s12, s13, s14, s15), b);
  const y20 = f32x4.add(at0(s20, s21, s22, s23, s24, s25), b), y21 = f32x4.add(at1(s20, s21, s22, s23, s24, s25), b);
  const y22 = f32x4.add(at2(s20, s21, s22, s23, s24, s25), b), y23 = f32x4.add(at3(s20, s21, s22, s23, s24, s25), b);
  const y30 = f32x4.add(at0(s30, s31, s32, s33, s34, s35), b), y31 = f32x4.add(at1(s30, s31, s32, s33, s34, s35), b);
  const y32 = f32x4.add(at2(s30, s31, s32, s33, s34, s35), b), y33 = f32x4.add(at3(s30, s31, s32, s33, s34, s35), b);
  if (0 < rows && 0 < cols) put(o + 0 * rowB + 0 * colB, y00, nb, relu);
  if (0 < rows && 1 < cols) put(o + 0 * rowB + 1 * colB, y01, nb, relu);
  if (0 < rows && 2 < cols) put(o + 0 * rowB + 2 * colB, y02, nb, relu);
  if (0 < rows && 3 < cols) put(o + 0 * rowB + 3 * colB, y03, nb, relu);
  if (1 < rows && 0 < cols) put(o + 1 * rowB + 0 * colB, y10, nb, relu);
  if (1 < rows && 1 < cols) put(o + 1 * rowB + 1 * colB, y11, nb, relu);
  if (1 < rows && 2 < cols) put(o + 1 * rowB + 2 * colB, y12, nb, relu);
  if (1 < rows && 3 < cols) put(o + 1 * rowB + 3 * colB, y13, nb, relu);
  if (2 < rows && 0 < cols) put(o + 2 * rowB + 0 * colB, y20, nb, relu);
  if (2 < rows && 1 < cols) put(o + 2 * rowB + 1 * colB, y21, nb, relu);
  if (2 < rows && 2 < cols) put(o + 2 * rowB + 2 * colB, y22, nb, relu);
  if (2 < rows && 3 < cols) put(o + 2 * rowB + 3 * colB, y23, nb, relu);
  if (3 < rows && 0 < cols) put(o + 3 * rowB + 0 * colB, y30, nb, relu);
  if (3 < rows && 1 < cols) put(o + 3 * rowB + 1 * colB, y31, nb, relu);
  if (3 < rows && 2 < cols) put(o + 3 * rowB + 2 * colB, y32, nb, relu);
  if (3 < rows && 3 < cols) put(o + 3 * rowB + 3 * colB, y33, nb, relu);
}

/** F(2x2, 5x5) output stage for 4 channels of one tile: as output4x4, with A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 1]. */
// @ts-ignore: decorator
@inline function output2x2r5(q: usize, ms: usize, b: v128, o: usize, rowB: usize, colB: usize, rows: i32, cols: i32, relu: i32, nb: i32): void {
  const m00 = v128.load(q + 0 * ms), m01 = v128.load(q + 1 * ms), m02 = v128.load(q + 2 * ms);
  const m03 = v128.load(q + 3 * ms), m04 = v128.load(q + 4 * ms), m05 = v128.load(q + 5 * ms);
  const m10 = v128.load(q + 6 * ms), m11 = v128.load(q + 7 * ms), m12 = v128.load(q + 8 * ms);
  const m13 = v128.load(q + 9 * ms), m14 = v128.load(q + 10 * ms), m15 = v128.load(q + 11 * ms);
  const m20 = v128.load(q + 12 * ms), m21 = v128.load(q + 13 * ms), m22 = v128.load(q + 14 * ms);
  const m23 = v128.load(q + 15 * ms), m24 = v128.load(q + 16 * ms), m25 = v128.load(q + 17 * ms);
  const m30 = v128.load(q + 18 * ms), m31 = v128.load(q + 19 * ms), m32 = v128.load(q + 20 * ms);
  const m33 = v128.load(q + 21 * ms), m34 = v128.load(q + 22 * ms), m35 = v128.load(q + 23 * ms);
  const m40 = v128.load(q + 24 * ms), m41 = v128.load(q + 25 * ms), m42 = v128.load(q + 26 * ms);
  const m43 = v128.load(q + 27 * ms), m44 = v128.load(q + 28 * ms), m45 = v128.load(q + 29 * ms);
  const m50 = v128.load(q + 30 * ms), m51 = v128.load(q + 31 * ms), m52 = v128.load(q + 32 * ms);
  const m53 = v128.load(q + 33 * ms), m54 = v128.load(q + 34 * ms), m55 = v128.load(q + 35 * ms);
  // s = A^T m (2 x 6), column by column; then y = s A (2 x 2).
  const s00 = at0(m00, m10, m20, m30, m40, m50), s01 = at0(m01, m11, m21, m31, m41, m51), s02 = at0(m02, m12, m22, m32, m42, m52);
  const s03 = at0(m03, m13, m23, m33, m43, m53), s04 = at0(m04, m14, m24, m34, m44, m54), s05 = at0(m05, m15, m25, m35, m45, m55);
  const s10 = f32x4.add(at1(m00, m10, m20, m30, m40, m50), m50), s11 = f32x4.add(at1(m01, m11, m21, m31, m41, m51), m51), s12 = f32x4.add(at1(m02, m12, m22, m32, m42, m52), m52);
  const s13 = f32x4.add(at1(m03, m13, m23, m33, m43, m53), m53), s14 = f32x4.add(at1(m04, m14, m24, m34, m44, m54), m54), s15 = f32x4.add(at1(m05, m15, m25, m35, m45, m55), m55);
  const y00 = f32x4.add(at0(s00, s01, s02, s03, s04, s05), b), y01 = f32x4.add(f32x4.add(at1(s00, s01, s02, s03, s04, s05), s05), b);
  const y10 = f32x4.add(at0(s10, s11, s12, s13, s14, s15), b), y11 = f32x4.add(f32x4.add(at1(s10, s11, s12, s13, s14, s15), s15), b);
  put(o, y00, nb, relu);
  if (cols > 1) put(o + colB, y01, nb, relu);
  if (rows > 1) {
    put(o + rowB, y10, nb, relu);
    if (cols > 1) put(o + rowB + colB, y11, nb, relu);
  }
}

/**
 * The 6-point Winograd convolutions: output tiles t0..t1 (step x step tiles over N * ceil(OH/step) *
 * ceil(OW/step)) and output panels j0..j1, in blocks of tb tiles through transformMultiply, then each tile's
 * output stage (step 4: F(4x4, 3x3), step 2: F(2x2, 5x5)). `packed` holds 36 packed matrices (K = C, zero
 * bias), `packedBytes` apart; `bias` Cout floats.
 */
// @ts-ignore: decorator
@inline function winograd6(
  step: i32, inp: usize, H: i32, W: i32, C: i32,
  out: usize, OH: i32, OW: i32, outStride: i32, outOff: i32,
  packed: usize, packedBytes: i32, bias: usize, Cout: i32, padT: i32, padL: i32, relu: i32,
  scratch: usize, tb: i32, t0: i32, t1: i32, j0: i32, j1: i32,
): void {
  const TH = (OH + step - 1) / step;
  const TW = (OW + step - 1) / step;
  const plane = TH * TW;
  const cb = j0 * NR;
  const ce = imin(j1 * NR, Cout);
  const rowB = <usize>(OW * outStride) << 2;
  const colB = <usize>outStride << 2;
  for (let tbeg = t0; tbeg < t1; tbeg += tb) {
    const tend = imin(tbeg + tb, t1);
    const ms = <usize>(tend - tbeg) * <usize>Cout << 2;
    const Mb = transformMultiply(inp, H, W, C, padT, padL, TW, plane, step, tbeg, tend, scratch, packed, packedBytes, Cout, j0, j1);
    for (let t = tbeg; t < tend; t++) {
      const n = t / plane;
      const r = t - n * plane;
      const ty = r / TW;
      const tx = r - ty * TW;
      const oy = step * ty;
      const ox = step * tx;
      const m = Mb + (<usize>(t - tbeg) * <usize>Cout << 2);
      const rows = imin(step, OH - oy);
      const cols = imin(step, OW - ox);
      const o0 = out + (<usize>(((n * OH + oy) * OW + ox) * outStride + outOff) << 2);
      for (let co = cb; co < ce; co += 4) {
        const nb = imin(4, ce - co);
        const b = loadLanes(bias + (<usize>co << 2), nb);
        const q = m + (<usize>co << 2);
        const o = o0 + (<usize>co << 2);
        if (step == 4) output4x4(q, ms, b, o, rowB, colB, rows, cols, relu, nb);
        else output2x2r5(q, ms, b, o, rowB, colB, rows, cols, relu, nb);
      }
    }
  }
}

/** Convolution 3x3 stride 1 as F(4x4, 3x3): 4x4 output tiles; arguments as winograd6. */
export function winograd4x4(
  inp: usize, H: i32, W: i32, C: i32,
  out: usize, OH: i32, OW: i32, outStride: i32, outOff: i32,
  packed: usize, packedBytes: i32, bias: usize, Cout: i32, padT: i32, padL: i32, relu: i32,
  scratch: usize, tb: i32, t0: i32, t1: i32, j0: i32, j1: i32,
): void {
  winograd6(4, inp, H, W, C, out, OH, OW, outStride, outOff, packed, packedBytes, bias, Cout, padT, padL, relu, scratch, tb, t0, t1, j0, j1);
}

/**
 * Convolution 5x5 stride 1 as F(2x2, 5x5) on the same 6x6 points: 2x2 output tiles, 36 multiplies per 4
 * outputs instead of 100. `packed` holds U = G g G^T for G (6x5): rows c_p [1 p p^2 p^3 p^4] for
 * p = 0, 1, -1, 2, -2 (c_p = 1/4, -1/6, -1/6, 1/24, 1/24) and [0 0 0 0 1]. Arguments as winograd6.
 */
export function winograd5x5(
  inp: usize, H: i32, W: i32, C: i32,
  out: usize, OH: i32, OW: i32, outStride: i32, outOff: i32,
  packed: usize, packedBytes: i32, bias: usize, Cout: i32, padT: i32, padL: i32, relu: i32,
  scratch: usize, tb: i32, t0: i32, t1: i32, j0: i32, j1: i32,
): void {
  winograd6(2, inp, H, W, C, out, OH, OW, outStride, outOff, packed, packedBytes, bias, Cout, padT, padL, relu, scratch, tb, t0, t1, j0, j1);
}
