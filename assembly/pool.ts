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
  // Per output pixel: copy the first window pixel, then fold in the others a channel vector at a time
  // (contiguous in NHWC). Caffe's and TF's windows always hold at least one input pixel.
  const C4 = C & ~3;
  const pix = <usize>C << 2;
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
      memory.copy(o, first, pix);
      for (let y = y0; y < y1; y++) {
        let p = inp + (<usize>((n * H + y) * W + x0) * pix);
        for (let x = x0; x < x1; x++) {
          if (p != first) {
            let c = 0;
            for (; c < C4; c += 4) {
              const q = <usize>c << 2;
              v128.store(o + q, f32x4.max(v128.load(o + q), v128.load(p + q)));
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
