// The machine's Wasm SIMD128 multiply-add peak: 12 independent accumulator chains (enough to cover the
// multiply-add latency on two ports), nothing but arithmetic in the loop. Compiled by bench/kernels.mjs
// in a plain (mul + add) and a relaxed (fused relaxed_madd) build, like the kernels.

// @ts-ignore: decorator
@inline function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(c, f32x4.mul(a, b));
}

/**
 * iters x 12 multiply-adds of 4 lanes = iters * 96 flops. Each chain is c = c * a + b, so the product
 * depends on the chain and cannot be hoisted out of the loop (a = b = 0.5 keeps c near 1).
 */
export function peak(iters: i32, p: usize): void {
  let c0 = v128.load(p), c1 = v128.load(p, 16), c2 = v128.load(p, 32), c3 = v128.load(p, 48);
  let c4 = v128.load(p, 64), c5 = v128.load(p, 80), c6 = v128.load(p, 96), c7 = v128.load(p, 112);
  let c8 = v128.load(p, 128), c9 = v128.load(p, 144), c10 = v128.load(p, 160), c11 = v128.load(p, 176);
  const a = f32x4.splat(0.5);
  const b = f32x4.splat(0.5);
  for (let i = 0; i < iters; i++) {
    c0 = madd(c0, a, b); c1 = madd(c1, a, b); c2 = madd(c2, a, b); c3 = madd(c3, a, b);
    c4 = madd(c4, a, b); c5 = madd(c5, a, b); c6 = madd(c6, a, b); c7 = madd(c7, a, b);
    c8 = madd(c8, a, b); c9 = madd(c9, a, b); c10 = madd(c10, a, b); c11 = madd(c11, a, b);
  }
  let s = f32x4.add(f32x4.add(f32x4.add(c0, c1), f32x4.add(c2, c3)), f32x4.add(f32x4.add(c4, c5), f32x4.add(c6, c7)));
  s = f32x4.add(s, f32x4.add(f32x4.add(c8, c9), f32x4.add(c10, c11)));
  v128.store(p, s);
}
