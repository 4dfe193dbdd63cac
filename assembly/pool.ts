// Max and average pooling, NHWC, 4 channels per v128.
//
// The caller (TypeScript) computes the output size and the top/left padding for either convention:
// TF 'SAME' (total pad split with the larger half after) or Caffe (explicit pad, output size rounded up).
// Window positions outside the input are skipped, which for max pooling equals padding with -inf.
// Rows r0..r1 are flattened (n, oy) output rows, so threads can split them.
import { imin, imax } from './common';

export function maxpool(
  inp: usize, H: i32, W: i32, C: i32,
  out: usize, OH: i32, OW: i32, outStride: i32, outOff: i32,
  KH: i32, KW: i32, SH: i32, SW: i32, padT: i32, padL: i32, r0: i32, r1: i32,
): void {
  // f32x4.pmax(a, b) = a < b ? b : a lowers to one maxps on x64, while f32x4.max's NaN/-0 rules cost V8 a
  // sequence of ~8 instructions; activations are finite, where the two agree.
  // Whole 3x3 windows (most of them) take an unrolled path: nine loads and eight max per channel
  // vector, one store. Clipped windows (borders, Caffe ceil mode, other sizes): copy the first window
  // pixel, then fold in the others a channel vector at a time. Windows always hold an input pixel.
  const C4 = C & ~3;
  const pix = <usize>C << 2;
  const row = <usize>W * pix;
  for (let r = r0; r < r1; r++) {
    const n = r / OH;
    const oy = r - n * OH;
    const y0 = imax(oy * SH - padT, 0);
    const y1 = imin(oy * SH - padT + KH, H);
    for (let ox = 0; ox < OW; ox++) {
      const x0 = imax(ox * SW - padL, 0);
      const x1 = imin(ox * SW - padL + KW, W);
      const o = out + (<usize>((r * OW + ox) * outStride + outOff) << 2);
      const first = inp + (<usize>((n * H + y0) * W + x0) * pix);
      if (y1 - y0 == 3 && x1 - x0 == 3 && C4 == C) {
        for (let q: usize = 0, e: usize = pix; q < e; q += 16) {
          const p0 = first + q;
          const p1 = p0 + row;
          const p2 = p1 + row;
          let m = f32x4.pmax(f32x4.pmax(v128.load(p0), v128.load(p0 + pix)), v128.load(p0 + 2 * pix));
          m = f32x4.pmax(m, f32x4.pmax(f32x4.pmax(v128.load(p1), v128.load(p1 + pix)), v128.load(p1 + 2 * pix)));
          m = f32x4.pmax(m, f32x4.pmax(f32x4.pmax(v128.load(p2), v128.load(p2 + pix)), v128.load(p2 + 2 * pix)));
          v128.store(o + q, m);
        }
        continue;
      }
      memory.copy(o, first, pix);
      for (let y = y0; y < y1; y++) {
        let p = inp + (<usize>((n * H + y) * W + x0) * pix);
        for (let x = x0; x < x1; x++) {
          if (p != first) {
            let c = 0;
            for (; c < C4; c += 4) {
              const q = <usize>c << 2;
              v128.store(o + q, f32x4.pmax(v128.load(o + q), v128.load(p + q)));
            }
            for (; c < C; c++) {
              const q = <usize>c << 2;
              store<f32>(o + q, max(load<f32>(o + q), load<f32>(p + q)));
            }
          }
          p += pix;
        }
      }
    }
  }
}

/** Average pooling: mean over the in-range part of each window (VALID windows are always whole). */
export function avgpool(
  inp: usize, H: i32, W: i32, C: i32,
  out: usize, OH: i32, OW: i32, outStride: i32, outOff: i32,
  KH: i32, KW: i32, SH: i32, SW: i32, padT: i32, padL: i32, r0: i32, r1: i32,
): void {
  const C4 = C & ~3;
  for (let r = r0; r < r1; r++) {
    const n = r / OH;
    const oy = r - n * OH;
    const y0 = imax(oy * SH - padT, 0);
    const y1 = imin(oy * SH - padT + KH, H);
    for (let ox = 0; ox < OW; ox++) {
      const x0 = imax(ox * SW - padL, 0);
      const x1 = imin(ox * SW - padL + KW, W);
      const inv: f32 = 1.0 / <f32>((y1 - y0) * (x1 - x0));
      const o = out + (<usize>((r * OW + ox) * outStride + outOff) << 2);
      let c = 0;
      for (; c < C4; c += 4) {
        let acc = f32x4.splat(0);
        for (let y = y0; y < y1; y++) {
          let p = inp + (<usize>(((n * H + y) * W + x0) * C + c) << 2);
          for (let x = x0; x < x1; x++) {
            acc = f32x4.add(acc, v128.load(p));
            p += <usize>C << 2;
          }
        }
        v128.store(o + (<usize>c << 2), f32x4.mul(acc, f32x4.splat(inv)));
      }
      for (; c < C; c++) {
        let acc: f32 = 0;
        for (let y = y0; y < y1; y++) {
          for (let x = x0; x < x1; x++) {
            acc += load<f32>(inp + (<usize>(((n * H + y) * W + x) * C + c) << 2));
          }
        }
        store<f32>(o + (<usize>c << 2), acc * inv);
      }
    }
  }
}

/** Scalar reference for both poolings (isMax 1: max, 0: mean of the in-range window), all N*OH rows. */
export function pool_ref(
  inp: usize, N: i32, H: i32, W: i32, C: i32,
  out: usize, OH: i32, OW: i32, outStride: i32, outOff: i32,
  KH: i32, KW: i32, SH: i32, SW: i32, padT: i32, padL: i32, isMax: i32,
): void {
  for (let n = 0; n < N; n++) {
    for (let oy = 0; oy < OH; oy++) {
      for (let ox = 0; ox < OW; ox++) {
        for (let c = 0; c < C; c++) {
          let acc: f32 = isMax ? -Infinity : 0;
          let count = 0;
          for (let ky = 0; ky < KH; ky++) {
            for (let kx = 0; kx < KW; kx++) {
              const y = oy * SH - padT + ky;
              const x = ox * SW - padL + kx;
              if (y < 0 || y >= H || x < 0 || x >= W) continue;
              const v = load<f32>(inp + (<usize>(((n * H + y) * W + x) * C + c) << 2));
              if (isMax) acc = v > acc ? v : acc;
              else acc += v;
              count++;
            }
          }
          if (!isMax) acc = acc * (<f32>1.0 / <f32>count);
          store<f32>(out + (<usize>(((n * OH + oy) * OW + ox) * outStride + outOff + c) << 2), acc);
        }
      }
    }
  }
}
