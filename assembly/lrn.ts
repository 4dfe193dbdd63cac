// Local response normalization across channels, as Caffe defines it (NHWC):
//   out[c] = in[c] * (k + alpha / size * sum_{|c'-c| <= size/2} in[c']^2) ^ -beta
// Pixels p0..p1 (flattened n, y, x). `scratch` holds C + size floats per call (owned by the thread):
// the squares of one pixel with size/2 zeros on each side, so the window sum is unaligned v128 loads.
// beta = 0.75 (both GoogLeNets) takes x^-0.75 = 1 / sqrt(x * sqrt(x)); any other beta uses pow.
import { hostPow } from './common';

export function lrn(
  inp: usize, out: usize, C: i32, size: i32, alpha: f32, beta: f32, k: f32,
  p0: i32, p1: i32, scratch: usize,
): void {
  const half = size >> 1;
  const a = alpha / <f32>size;
  const fast = beta == 0.75;
  const C4 = C & ~3;
  memory.fill(scratch, 0, <usize>(C + size + 4) << 2);
  const sq = scratch + (<usize>half << 2);
  for (let p = p0; p < p1; p++) {
    const src = inp + (<usize>p * <usize>C << 2);
    const dst = out + (<usize>p * <usize>C << 2);
    for (let c = 0; c < C; c++) {
      const v = load<f32>(src + (<usize>c << 2));
      store<f32>(sq + (<usize>c << 2), v * v);
    }
    let c = 0;
    if (fast) {
      const va = f32x4.splat(a);
      const vk = f32x4.splat(k);
      const one = f32x4.splat(1);
      for (; c < C4; c += 4) {
        let s = f32x4.splat(0);
        let q = scratch + (<usize>c << 2);
        for (let i = 0; i < size; i++) {
          s = f32x4.add(s, v128.load(q));
          q += 4;
        }
        const scale = f32x4.add(vk, f32x4.mul(va, s));
        const r = f32x4.div(one, f32x4.sqrt(f32x4.mul(scale, f32x4.sqrt(scale))));
        v128.store(dst + (<usize>c << 2), f32x4.mul(v128.load(src + (<usize>c << 2)), r));
      }
    }
    for (; c < C; c++) {
      let s: f32 = 0;
      for (let i = 0; i < size; i++) s += load<f32>(scratch + (<usize>(c + i) << 2));
      const scale = k + a * s;
      const r: f32 = fast ? <f32>1.0 / Mathf.sqrt(scale * Mathf.sqrt(scale)) : <f32>hostPow(<f64>scale, -<f64>beta);
      store<f32>(dst + (<usize>c << 2), load<f32>(src + (<usize>c << 2)) * r);
    }
  }
}

/** Scalar reference: the formula as written, with pow, for pixels 0..P. */
export function lrn_ref(inp: usize, out: usize, C: i32, size: i32, alpha: f32, beta: f32, k: f32, P: i32): void {
  const half = size >> 1;
  for (let p = 0; p < P; p++) {
    for (let c = 0; c < C; c++) {
      let s: f64 = 0;
      for (let j = c - half; j <= c + half; j++) {
        if (j < 0 || j >= C) continue;
        const v = <f64>load<f32>(inp + (<usize>(p * C + j) << 2));
        s += v * v;
      }
      const scale = <f64>k + <f64>alpha / <f64>size * s;
      const x = <f64>load<f32>(inp + (<usize>(p * C + c) << 2));
      store<f32>(out + (<usize>(p * C + c) << 2), <f32>(x * hostPow(scale, -<f64>beta)));
    }
  }
}
