// Winograd F(2x2, 3x3) for stride-1 3x3 convolutions (67 % of the network's multiply-adds), NHWC.
//
// Per 2x2 output tile: V = B^T d B (d the 4x4 input patch), M = V . U per position (16 GEMMs over
// channels, U = G g G^T precomputed and packed at load), Y = A^T M A + bias. 16 multiplies per
// output pair instead of 36 for a 2.25x cut in GEMM work. Tiles are processed in blocks of `tb` tiles
// through per-thread scratch (V: 16*tb*C floats, then M: 16*tb*Cout floats, then 6*C for the GEMM's
// packed rows), so a thread's range of tiles
// can be any [t0, t1) and each output is computed the same way whatever the split.
//
//   B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]   A^T = [1 1 1 0; 0 1 -1 -1]
import { gemm, NR } from './gemm';
import { imin, pointBytes } from './common';

// @ts-ignore: decorator
@inline function ld(inp: usize, n: i32, iy: i32, ix: i32, H: i32, W: i32, C: i32, c: i32): v128 {
  if (iy < 0 || iy >= H || ix < 0 || ix >= W) return f32x4.splat(0);
  return v128.load(inp + (<usize>(((n * H + iy) * W + ix) * C + c) << 2));
}

// @ts-ignore: decorator
@inline function ldS(inp: usize, n: i32, iy: i32, ix: i32, H: i32, W: i32, C: i32, c: i32): f32 {
  if (iy < 0 || iy >= H || ix < 0 || ix >= W) return 0;
  return load<f32>(inp + (<usize>(((n * H + iy) * W + ix) * C + c) << 2));
}

/** Input transform of one 4x4 patch row set, 4 channels: writes V[xi] at v + xi * vStride. */
// @ts-ignore: decorator
@inline function inputTransform4(
  d00: v128, d01: v128, d02: v128, d03: v128, d10: v128, d11: v128, d12: v128, d13: v128,
  d20: v128, d21: v128, d22: v128, d23: v128, d30: v128, d31: v128, d32: v128, d33: v128,
  v: usize, vs: usize,
): void {
  // Rows: t = B^T d.
  const t00 = f32x4.sub(d00, d20), t01 = f32x4.sub(d01, d21), t02 = f32x4.sub(d02, d22), t03 = f32x4.sub(d03, d23);
  const t10 = f32x4.add(d10, d20), t11 = f32x4.add(d11, d21), t12 = f32x4.add(d12, d22), t13 = f32x4.add(d13, d23);
  const t20 = f32x4.sub(d20, d10), t21 = f32x4.sub(d21, d11), t22 = f32x4.sub(d22, d12), t23 = f32x4.sub(d23, d13);
  const t30 = f32x4.sub(d10, d30), t31 = f32x4.sub(d11, d31), t32 = f32x4.sub(d12, d32), t33 = f32x4.sub(d13, d33);
  // Columns: V = t B.
  v128.store(v, f32x4.sub(t00, t02)); v128.store(v + vs, f32x4.add(t01, t02));
  v128.store(v + 2 * vs, f32x4.sub(t02, t01)); v128.store(v + 3 * vs, f32x4.sub(t01, t03));
  v128.store(v + 4 * vs, f32x4.sub(t10, t12)); v128.store(v + 5 * vs, f32x4.add(t11, t12));
  v128.store(v + 6 * vs, f32x4.sub(t12, t11)); v128.store(v + 7 * vs, f32x4.sub(t11, t13));
  v128.store(v + 8 * vs, f32x4.sub(t20, t22)); v128.store(v + 9 * vs, f32x4.add(t21, t22));
  v128.store(v + 10 * vs, f32x4.sub(t22, t21)); v128.store(v + 11 * vs, f32x4.sub(t21, t23));
  v128.store(v + 12 * vs, f32x4.sub(t30, t32)); v128.store(v + 13 * vs, f32x4.add(t31, t32));
  v128.store(v + 14 * vs, f32x4.sub(t32, t31)); v128.store(v + 15 * vs, f32x4.sub(t31, t33));
}

/**
 * Convolution 3x3 stride 1 of output tiles t0..t1 (tiles of 2x2 over N * ceil(OH/2) * ceil(OW/2)) and
 * output-channel panels j0..j1 (NR = 12 channels each). Threads that split the panels each transform the
 * input tiles again (cheap) but stream only their share of U (16 x C x Cout floats, the expensive part).
 * `packed` holds 16 packed matrices (K = C, zero bias), each `packedBytes` long; `bias` Cout floats.
 */
export function winograd3x3(
  inp: usize, H: i32, W: i32, C: i32,
  out: usize, OH: i32, OW: i32, outStride: i32, outOff: i32,
  packed: usize, packedBytes: i32, bias: usize, Cout: i32, padT: i32, padL: i32, relu: i32,
  scratch: usize, tb: i32, t0: i32, t1: i32, j0: i32, j1: i32,
): void {
  const TH = (OH + 1) >> 1;
  const TW = (OW + 1) >> 1;
  const plane = TH * TW;
  const C4 = C & ~3;
  // Output channels [cb, ce) of panels j0..j1 (NR channels each; the last may be partial).
  const cb = j0 * NR;
  const ce = imin(j1 * NR, Cout);
  const ce4 = cb + ((ce - cb) & ~3);
  for (let tbeg = t0; tbeg < t1; tbeg += tb) {
    const tend = imin(tbeg + tb, t1);
    const T = tend - tbeg;
    // V block: 16 matrices of T x C; M block follows: 16 matrices of T x Cout (pointBytes apart).
    const vs = pointBytes(T, C);
    const Vb = scratch;
    const Mb = scratch + 16 * vs;
    const ms = pointBytes(T, Cout);
    for (let t = tbeg; t < tend; t++) {
      const n = t / plane;
      const r = t - n * plane;
      const ty = r / TW;
      const tx = r - ty * TW;
      const y0 = 2 * ty - padT;
      const x0 = 2 * tx - padL;
      const v = Vb + (<usize>(t - tbeg) * <usize>C << 2);
      let c = 0;
      if (y0 >= 0 && y0 + 4 <= H && x0 >= 0 && x0 + 4 <= W) {
        // Interior tile: the 4x4 patch is in range, loads need no bounds checks.
        const pix = <usize>C << 2;
        const row = <usize>W * pix;
        const base = inp + (<usize>((n * H + y0) * W + x0) * pix);
        for (; c < C4; c += 4) {
          const p0 = base + (<usize>c << 2);
          const p1 = p0 + row;
          const p2 = p1 + row;
          const p3 = p2 + row;
          inputTransform4(
            v128.load(p0), v128.load(p0 + pix), v128.load(p0 + 2 * pix), v128.load(p0 + 3 * pix),
            v128.load(p1), v128.load(p1 + pix), v128.load(p1 + 2 * pix), v128.load(p1 + 3 * pix),
            v128.load(p2), v128.load(p2 + pix), v128.load(p2 + 2 * pix), v128.load(p2 + 3 * pix),
            v128.load(p3), v128.load(p3 + pix), v128.load(p3 + 2 * pix), v128.load(p3 + 3 * pix),
            v + (<usize>c << 2), vs,
          );
        }
      }
      for (; c < C4; c += 4) {
        inputTransform4(
          ld(inp, n, y0, x0, H, W, C, c), ld(inp, n, y0, x0 + 1, H, W, C, c), ld(inp, n, y0, x0 + 2, H, W, C, c), ld(inp, n, y0, x0 + 3, H, W, C, c),
          ld(inp, n, y0 + 1, x0, H, W, C, c), ld(inp, n, y0 + 1, x0 + 1, H, W, C, c), ld(inp, n, y0 + 1, x0 + 2, H, W, C, c), ld(inp, n, y0 + 1, x0 + 3, H, W, C, c),
          ld(inp, n, y0 + 2, x0, H, W, C, c), ld(inp, n, y0 + 2, x0 + 1, H, W, C, c), ld(inp, n, y0 + 2, x0 + 2, H, W, C, c), ld(inp, n, y0 + 2, x0 + 3, H, W, C, c),
          ld(inp, n, y0 + 3, x0, H, W, C, c), ld(inp, n, y0 + 3, x0 + 1, H, W, C, c), ld(inp, n, y0 + 3, x0 + 2, H, W, C, c), ld(inp, n, y0 + 3, x0 + 3, H, W, C, c),
          v + (<usize>c << 2), vs,
        );
      }
      for (; c < C; c++) {
        // Scalar tail: the same transform one channel at a time.
        const q = v + (<usize>c << 2);
        for (let i = 0; i < 4; i++) {
          const a0 = ldS(inp, n, y0 + i, x0, H, W, C, c), a1 = ldS(inp, n, y0 + i, x0 + 1, H, W, C, c);
          const a2 = ldS(inp, n, y0 + i, x0 + 2, H, W, C, c), a3 = ldS(inp, n, y0 + i, x0 + 3, H, W, C, c);
          // Row i of d B (columns), stored temporarily in V[i*4 + j]; rows combined below.
          store<f32>(q + <usize>(i * 4) * vs, a0 - a2);
          store<f32>(q + <usize>(i * 4 + 1) * vs, a1 + a2);
          store<f32>(q + <usize>(i * 4 + 2) * vs, a2 - a1);
          store<f32>(q + <usize>(i * 4 + 3) * vs, a1 - a3);
        }
        for (let j = 0; j < 4; j++) {
          const e0 = load<f32>(q + <usize>j * vs), e1 = load<f32>(q + <usize>(4 + j) * vs);
          const e2 = load<f32>(q + <usize>(8 + j) * vs), e3 = load<f32>(q + <usize>(12 + j) * vs);
          store<f32>(q + <usize>j * vs, e0 - e2);
          store<f32>(q + <usize>(4 + j) * vs, e1 + e2);
          store<f32>(q + <usize>(8 + j) * vs, e2 - e1);
          store<f32>(q + <usize>(12 + j) * vs, e1 - e3);
        }
      }
    }
    // 16 GEMMs: M[xi] (T x Cout) = V[xi] (T x C) . U[xi] (C x Cout).
    for (let xi = 0; xi < 16; xi++) {
      gemm(Vb + <usize>xi * vs, C, T, C, packed + <usize>xi * <usize>packedBytes, Cout, j0, j1, Mb + <usize>xi * ms, Cout, 0, Mb + 16 * ms);
    }
    // Output transform: Y = A^T M A + bias, ReLU, only the pixels inside OH x OW.
    for (let t = tbeg; t < tend; t++) {
      const n = t / plane;
      const r = t - n * plane;
      const ty = r / TW;
      const tx = r - ty * TW;
      const oy = 2 * ty;
      const ox = 2 * tx;
      const m = Mb + (<usize>(t - tbeg) * <usize>Cout << 2);
      const o00 = out + (<usize>(((n * OH + oy) * OW + ox) * outStride + outOff) << 2);
      const rowB = <usize>(OW * outStride) << 2;
      const colB = <usize>outStride << 2;
      const hasR = ox + 1 < OW;
      const hasD = oy + 1 < OH;
      const z = f32x4.splat(0);
      let co = cb;
      for (; co < ce4; co += 4) {
        const q = m + (<usize>co << 2);
        const m0 = v128.load(q), m1 = v128.load(q + ms), m2 = v128.load(q + 2 * ms), m3 = v128.load(q + 3 * ms);
        const m4 = v128.load(q + 4 * ms), m5 = v128.load(q + 5 * ms), m6 = v128.load(q + 6 * ms), m7 = v128.load(q + 7 * ms);
        const m8 = v128.load(q + 8 * ms), m9 = v128.load(q + 9 * ms), m10 = v128.load(q + 10 * ms), m11 = v128.load(q + 11 * ms);
        const m12 = v128.load(q + 12 * ms), m13 = v128.load(q + 13 * ms), m14 = v128.load(q + 14 * ms), m15 = v128.load(q + 15 * ms);
        // s = A^T m (rows): s0 = m_row0 + m_row1 + m_row2, s1 = m_row1 - m_row2 - m_row3.
        const s00 = f32x4.add(f32x4.add(m0, m4), m8), s01 = f32x4.add(f32x4.add(m1, m5), m9);
        const s02 = f32x4.add(f32x4.add(m2, m6), m10), s03 = f32x4.add(f32x4.add(m3, m7), m11);
        const s10 = f32x4.sub(f32x4.sub(m4, m8), m12), s11 = f32x4.sub(f32x4.sub(m5, m9), m13);
        const s12 = f32x4.sub(f32x4.sub(m6, m10), m14), s13 = f32x4.sub(f32x4.sub(m7, m11), m15);
        const b = v128.load(bias + (<usize>co << 2));
        let y00 = f32x4.add(f32x4.add(f32x4.add(s00, s01), s02), b);
        let y01 = f32x4.add(f32x4.sub(f32x4.sub(s01, s02), s03), b);
        let y10 = f32x4.add(f32x4.add(f32x4.add(s10, s11), s12), b);
        let y11 = f32x4.add(f32x4.sub(f32x4.sub(s11, s12), s13), b);
        if (relu) {
          y00 = f32x4.pmax(y00, z); y01 = f32x4.pmax(y01, z); y10 = f32x4.pmax(y10, z); y11 = f32x4.pmax(y11, z);
        }
        const o = o00 + (<usize>co << 2);
        v128.store(o, y00);
        if (hasR) v128.store(o + colB, y01);
        if (hasD) {
          v128.store(o + rowB, y10);
          if (hasR) v128.store(o + rowB + colB, y11);
        }
      }
      for (; co < ce; co++) {
        const q = m + (<usize>co << 2);
        const s00 = load<f32>(q) + load<f32>(q + 4 * ms) + load<f32>(q + 8 * ms);
        const s01 = load<f32>(q + ms) + load<f32>(q + 5 * ms) + load<f32>(q + 9 * ms);
        const s02 = load<f32>(q + 2 * ms) + load<f32>(q + 6 * ms) + load<f32>(q + 10 * ms);
        const s03 = load<f32>(q + 3 * ms) + load<f32>(q + 7 * ms) + load<f32>(q + 11 * ms);
        const s10 = load<f32>(q + 4 * ms) - load<f32>(q + 8 * ms) - load<f32>(q + 12 * ms);
        const s11 = load<f32>(q + 5 * ms) - load<f32>(q + 9 * ms) - load<f32>(q + 13 * ms);
        const s12 = load<f32>(q + 6 * ms) - load<f32>(q + 10 * ms) - load<f32>(q + 14 * ms);
        const s13 = load<f32>(q + 7 * ms) - load<f32>(q + 11 * ms) - load<f32>(q + 15 * ms);
        const b = load<f32>(bias + (<usize>co << 2));
        let y00 = s00 + s01 + s02 + b, y01 = s01 - s02 - s03 + b;
        let y10 = s10 + s11 + s12 + b, y11 = s11 - s12 - s13 + b;
        if (relu) {
          y00 = max<f32>(y00, 0); y01 = max<f32>(y01, 0); y10 = max<f32>(y10, 0); y11 = max<f32>(y11, 0);
        }
        const o = o00 + (<usize>co << 2);
        store<f32>(o, y00);
        if (hasR) store<f32>(o + colB, y01);
        if (hasD) {
          store<f32>(o + rowB, y10);
          if (hasR) store<f32>(o + rowB + colB, y11);
        }
      }
    }
  }
}
