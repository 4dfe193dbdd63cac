// Softmax over the last axis: rows r0..r1 of length L, max-subtracted for stability.
import { hostExp } from './common';

export function softmax(inp: usize, out: usize, L: i32, r0: i32, r1: i32): void {
  for (let r = r0; r < r1; r++) {
    const src = inp + (<usize>r * <usize>L << 2);
    const dst = out + (<usize>r * <usize>L << 2);
    let m: f32 = -Infinity;
    for (let i = 0; i < L; i++) m = max(m, load<f32>(src + (<usize>i << 2)));
    let s: f32 = 0;
    for (let i = 0; i < L; i++) {
      const e = <f32>hostExp(<f64>(load<f32>(src + (<usize>i << 2)) - m));
      store<f32>(dst + (<usize>i << 2), e);
      s += e;
    }
    const inv: f32 = 1.0 / s;
    for (let i = 0; i < L; i++) store<f32>(dst + (<usize>i << 2), load<f32>(dst + (<usize>i << 2)) * inv);
  }
}

/** Scalar reference in double precision. */
export function softmax_ref(inp: usize, out: usize, L: i32, R: i32): void {
  for (let r = 0; r < R; r++) {
    let m: f64 = -Infinity;
    for (let i = 0; i < L; i++) m = max<f64>(m, <f64>load<f32>(inp + (<usize>(r * L + i) << 2)));
    let s: f64 = 0;
    for (let i = 0; i < L; i++) s += hostExp(<f64>load<f32>(inp + (<usize>(r * L + i) << 2)) - m);
    for (let i = 0; i < L; i++) {
      store<f32>(out + (<usize>(r * L + i) << 2), <f32>(hostExp(<f64>load<f32>(inp + (<usize>(r * L + i) << 2)) - m) / s));
    }
  }
}
