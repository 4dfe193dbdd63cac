// Input check: are all values finite? x * 0 is 0 (or -0) for every finite x and NaN for an infinity or a
// NaN, so a sum of x * 0 stays 0 exactly when every x is finite (a multiply and an add per 4 values, where a
// JavaScript loop over the Float32Array took ~1.2 ns per value: 175 µs for one 224x224 image).

/** 1 if the n floats at p are all finite, else 0. */
export function allFinite(p: usize, n: i32): i32 {
  const z = f32x4.splat(0);
  let a = z;
  let b = z;
  const end = p + (<usize>n << 2);
  let q = p;
  for (; q + 32 <= end; q += 32) {
    a = f32x4.add(a, f32x4.mul(v128.load(q), z));
    b = f32x4.add(b, f32x4.mul(v128.load(q, 16), z));
  }
  let s: f32 = 0;
  for (; q < end; q += 4) s += load<f32>(q) * 0;
  return i32(i32x4.all_true(f32x4.eq(f32x4.add(a, b), z)) && s == 0);
}

/** Scalar reference: each value tested on its own. */
export function allFinite_ref(p: usize, n: i32): i32 {
  for (let i = 0; i < n; i++) {
    if (!isFinite<f32>(load<f32>(p + (<usize>i << 2)))) return 0;
  }
  return 1;
}
