// Winograd on 6 points (0, +-1, +-2, inf), NHWC: F(4x4, 3x3) for stride-1 3x3 convolutions and F(2x2, 5x5)
// for stride-1 5x5 ones (GoogLeNet's 5x5 branches), which share the input transform B^T d B of 6x6 patches.
// F(4x4, 3x3): 4x4 output tiles from 6x6 input patches,
// 36 multiplies per 16 outputs (4x fewer than direct, against 2.25x for F(2x2, 3x3)), at the price of
// larger transforms and more rounding (interpolation points 0, +-1, +-2, inf). Same structure as
// winograd.ts: tiles in blocks through per-thread scratch (V: 36 matrices of tb*C floats, M: 36 of
// tb*Cout, each with one cache line after it (pointBytes), after 72 vectors of transform temporaries,
// which the output stage reuses, then 6*C for the GEMM's packed rows), any split of tiles and output
// panels gives the same result.
//
//   B^T = [4 0 -5 0 1 0; 0 -4 -4 1 1 0; 0 4 -4 -1 1 0; 0 -2 -1 2 1 0; 0 2 -1 -2 1 0; 0 4 0 -5 0 1]
//   A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 0; 0 1 1 4 4 0; 0 1 -1 8 -8 1]
import { gemm, NR } from './gemm';
import { imax, imin, loadLanes, pointBytes, storeLanes } from './common';

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
    const rowBytes = <usize>W * pix;
    // The rows i0..i1 and columns j0..j1 of the patch lie in the image. A tile across the border copies
    // them into `patch` for each 4 channels (the last vector zero past C); its other entries stay zero (set
    // once per tile). A tile inside reads the image directly, but for a channel tail.
    const i0 = imax(0, -y0), i1 = imin(6, H - y0), j0 = imax(0, -x0), j1 = imin(6, W - x0);
    const patch = tmp + 576;
    if (!inside) for (let k: usize = 0; k < 36; k++) v128.store(patch + (k << 4), z);
    for (let c = 0; c < C; c += 4) {
      if (inside && c < C4) {
        transformIn(corner + (<usize>c << 2), rowBytes, pix, tmp, v + (<usize>c << 2), vs);
        continue;
      }
      for (let i = i0; i < i1; i++) {
        const row = corner + <usize>i * rowBytes + (<usize>c << 2);
        const q = patch + <usize>(i * 6) * 16;
        for (let j = j0; j < j1; j++) v128.store(q + (<usize>j << 4), loadLanes(row + <usize>j * pix, C - c));
      }
      if (c < C4) {
        transformIn(patch, 96, 16, tmp, v + (<usize>c << 2), vs);
        continue;
      }
      // The channel tail (C % 4 channels): transformed into the patch's own space (its last use in this
      // tile), then only the valid lanes are stored.
      transformIn(patch, 96, 16, tmp, patch, 16);
      for (let xi: usize = 0; xi < 36; xi++) storeLanes(v + xi * vs + (<usize>c << 2), v128.load(patch + xi * 16), C - c);
    }
  }
}

/**
 * M = V . U for each of the 36 points: T rows of V (points vs bytes apart) over the panels j0..j1, into M at
 * Mb (T x Cout floats per point, pointBytes apart); the GEMM packs its rows after M.
 */
function multiply(Vb: usize, vs: usize, C: i32, T: i32, packed: usize, packedBytes: i32, Cout: i32, j0: i32, j1: i32, Mb: usize): void {
  const ms = pointBytes(T, Cout);
  for (let xi = 0; xi < 36; xi++) {
    gemm(Vb + <usize>xi * vs, C, T, C, packed + <usize>xi * <usize>packedBytes, Cout, j0, j1, Mb + <usize>xi * ms, Cout, 0, Mb + 36 * ms);
  }
}

/** Store output pixel y (nb <= 4 channels, bias included) at o, with ReLU. */
// @ts-ignore: decorator
@inline function put(o: usize, y: v128, nb: i32, relu: i32): void {
  storeLanes(o, relu ? f32x4.pmax(y, f32x4.splat(0)) : y, nb);
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
 * Output stage for 4 channels of one tile: Y = A^T M A + b, ReLU, stored at o for the rows x cols of the
 * tile inside the image (rowB / colB bytes between output rows / columns). q: the first of M's 36 points
 * (ms bytes apart, row-major 6x6); nb < 4: a channel tail, whose first nb lanes are stored (put).
 * F(4x4, 3x3) (step 4): A^T's four rows; F(2x2, 5x5) (step 2): A^T = [1 1 1 1 1 0; 0 1 -1 2 -2 1], the
 * first row and the second plus x5. Two passes through tmp (24 vectors), as the input transform: s = A^T m
 * column by column, then y = s A row by row. With all 36 points live at once V8 spilled most of them and
 * recomputed every point's address with a multiply.
 */
// @ts-ignore: decorator
@inline function outputTile(step: i32, q: usize, ms: usize, tmp: usize, b: v128, o: usize, rowB: usize, colB: usize, rows: i32, cols: i32, relu: i32, nb: i32): void {
  const ms6 = ms * 6;
  for (let j: usize = 0; j < 6; j++) {
    const p = q + j * ms;
    const x0 = v128.load(p), x1 = v128.load(p + ms6), x2 = v128.load(p + 2 * ms6);
    const x3 = v128.load(p + 3 * ms6), x4 = v128.load(p + 4 * ms6), x5 = v128.load(p + 5 * ms6);
    const t = tmp + (j << 4);
    v128.store(t, at0(x0, x1, x2, x3, x4, x5));
    if (step == 4) {
      v128.store(t, at1(x0, x1, x2, x3, x4, x5), 96);
      v128.store(t, at2(x0, x1, x2, x3, x4, x5), 192);
      v128.store(t, at3(x0, x1, x2, x3, x4, x5), 288);
    } else {
      v128.store(t, f32x4.add(at1(x0, x1, x2, x3, x4, x5), x5), 96);
    }
  }
  for (let i = 0; i < rows; i++) {
    const t = tmp + <usize>i * 96;
    const s0 = v128.load(t), s1 = v128.load(t, 16), s2 = v128.load(t, 32);
    const s3 = v128.load(t, 48), s4 = v128.load(t, 64), s5 = v128.load(t, 80);
    const r = o + <usize>i * rowB;
    put(r, f32x4.add(at0(s0, s1, s2, s3, s4, s5), b), nb, relu);
    if (step == 4) {
      if (cols > 1) put(r + colB, f32x4.add(at1(s0, s1, s2, s3, s4, s5), b), nb, relu);
      if (cols > 2) put(r + 2 * colB, f32x4.add(at2(s0, s1, s2, s3, s4, s5), b), nb, relu);
      if (cols > 3) put(r + 3 * colB, f32x4.add(at3(s0, s1, s2, s3, s4, s5), b), nb, relu);
    } else if (cols > 1) {
      put(r + colB, f32x4.add(f32x4.add(at1(s0, s1, s2, s3, s4, s5), s5), b), nb, relu);
    }
  }
}

/**
 * The output stage of tiles tbeg..tend (TW tiles per row, plane per image) for output channels cb..ce:
 * M at Mb holds their 36 points (T x Cout floats per point, T = tend - tbeg). tmp: 24 vectors of scratch.
 */
function outputTiles(
  step: i32, Mb: usize, tbeg: i32, tend: i32, TW: i32, plane: i32,
  out: usize, OH: i32, OW: i32, outStride: i32, outOff: i32, bias: usize, Cout: i32, cb: i32, ce: i32, relu: i32, tmp: usize,
): void {
  const ms = pointBytes(tend - tbeg, Cout);
  const rowB = <usize>(OW * outStride) << 2;
  const colB = <usize>outStride << 2;
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
      outputTile(step, q, ms, tmp, b, o, rowB, colB, rows, cols, relu, nb);
    }
  }
}

/**
 * The 6-point Winograd convolutions: output tiles t0..t1 (step x step tiles over N * ceil(OH/step) *
 * ceil(OW/step)) and output panels j0..j1, in blocks of tb tiles: V = B^T d B (inputTiles) after two
 * 36-vector temporaries in scratch, M = V . U (multiply) after V, then each tile's output stage (step 4:
 * F(4x4, 3x3), step 2: F(2x2, 5x5)). `packed` holds 36 packed matrices (K = C, zero bias), `packedBytes`
 * apart; `bias` Cout floats.
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
  const Vb = scratch + 72 * 16;
  for (let tbeg = t0; tbeg < t1; tbeg += tb) {
    const tend = imin(tbeg + tb, t1);
    const T = tend - tbeg;
    const vs = pointBytes(T, C);
    const Mb = Vb + 36 * vs;
    inputTiles(inp, H, W, C, padT, padL, TW, plane, step, tbeg, tend, scratch, Vb, vs);
    multiply(Vb, vs, C, T, packed, packedBytes, Cout, j0, j1, Mb);
    outputTiles(step, Mb, tbeg, tend, TW, plane, out, OH, OW, outStride, outOff, bias, Cout, j0 * NR, imin(j1 * NR, Cout), relu, scratch);
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
