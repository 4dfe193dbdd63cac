// Local response normalization across channels, as Caffe defines it (NHWC):
//   out[c] = in[c] * (k + alpha / size * sum_{c' = c - pre}^{c - pre + size - 1} in[c']^2) ^ -beta
// with pre = (size - 1) / 2 rounded down (Caffe's pre_pad): the window is centred for the odd sizes both
// Caffe and TF use, and an even one reaches one channel further after c than before it.
// Pixels p0..p1 (flattened n, y, x). Channels outside 0..C-1 count as zeros.
// Both GoogLeNet LRNs have size 5 and beta 0.75: that case keeps the window in registers (lrn5) and takes
// x^-0.75 = 1 / sqrt(x * sqrt(x)). Any other size or beta takes the general loop, with pow.
import { hostPow, loadLanes, storeLanes } from './common';

/**
 * size 5, beta 0.75, 4 channels at a time: the squares of the vectors before, at and after channel c, and
 * the four shifted windows cut from them by shuffles. The sum runs in the general loop's order (c-2 first),
 * so both give the same values. A channel tail is loaded with zeros past C and stored lane by lane.
 */
// @ts-ignore: decorator
@inline function lrn5(inp: usize, out: usize, C: i32, a: f32, k: f32, p0: i32, p1: i32): void {
  const va = f32x4.splat(a);
  const vk = f32x4.splat(k);
  const one = f32x4.splat(1);
  const z = f32x4.splat(0);
  for (let p = p0; p < p1; p++) {
    const src = inp + (<usize>p * <usize>C << 2);
    const dst = out + (<usize>p * <usize>C << 2);
    let prev = z;
    let x = loadLanes(src, C);
    let cur = f32x4.mul(x, x);
    for (let c = 0; c < C; c += 4) {
      const xn = c + 4 < C ? loadLanes(src + (<usize>(c + 4) << 2), C - c - 4) : z;
      const next = f32x4.mul(xn, xn);
      let s = f32x4.add(i32x4.shuffle(prev, cur, 2, 3, 4, 5), i32x4.shuffle(prev, cur, 3, 4, 5, 6)); // c-2, c-1
      s = f32x4.add(s, cur);
      s = f32x4.add(s, i32x4.shuffle(cur, next, 1, 2, 3, 4)); // c+1
      s = f32x4.add(s, i32x4.shuffle(cur, next, 2, 3, 4, 5)); // c+2
      const scale = f32x4.add(vk, f32x4.mul(va, s));
      const r = f32x4.div(one, f32x4.sqrt(f32x4.mul(scale, f32x4.sqrt(scale))));
      storeLanes(dst + (<usize>c << 2), f32x4.mul(x, r), C - c);
      prev = cur;
      cur = next;
      x = xn;
    }
  }
}

/** `scratch` holds C + size + 4 floats (owned by the thread) for the general loop. */
export function lrn(
  inp: usize, out: usize, C: i32, size: i32, alpha: f32, beta: f32, k: f32,
  p0: i32, p1: i32, scratch: usize,
): void {
  const a = alpha / <f32>size;
  if (size == 5 && beta == 0.75) {
    lrn5(inp, out, C, a, k, p0, p1);
    return;
  }
  // The squares of one pixel with `pre` zeros before and size - 1 - pre after; each window sums `size`
  // of them in order.
  const pre = (size - 1) >> 1;
  memory.fill(scratch, 0, <usize>(C + size + 4) << 2);
  const sq = scratch + (<usize>pre << 2);
  for (let p = p0; p < p1; p++) {
    const src = inp + (<usize>p * <usize>C << 2);
    const dst = out + (<usize>p * <usize>C << 2);
    for (let c = 0; c < C; c++) {
      const v = load<f32>(src + (<usize>c << 2));
      store<f32>(sq + (<usize>c << 2), v * v);
    }
    for (let c = 0; c < C; c++) {
      let s: f32 = 0;
      for (let i = 0; i < size; i++) s += load<f32>(scratch + (<usize>(c + i) << 2));
      const scale = k + a * s;
      const r: f32 = beta == 0.75 ? <f32>1.0 / Mathf.sqrt(scale * Mathf.sqrt(scale)) : <f32>hostPow(<f64>scale, -<f64>beta);
      store<f32>(dst + (<usize>c << 2), load<f32>(src + (<usize>c << 2)) * r);
    }
  }
}

/** Scalar reference: the formula as written, with pow, for pixels 0..P. */
export function lrn_ref(inp: usize, out: usize, C: i32, size: i32, alpha: f32, beta: f32, k: f32, P: i32): void {
  const pre = (size - 1) >> 1;
  for (let p = 0; p < P; p++) {
    for (let c = 0; c < C; c++) {
      let s: f64 = 0;
      for (let j = c - pre; j < c - pre + size; j++) {
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
