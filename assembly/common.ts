// Shared inline helpers for the kernels. No globals, no static data, no allocation: a module built from
// these sources is instantiated by several workers over one shared memory (see DEVELOPERS.md).

/** acc + a * b: one fused multiply-add in the relaxed-SIMD build, a multiply then an add otherwise. */
// @ts-ignore: decorator
@inline export function madd(a: v128, b: v128, acc: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, acc);
  return f32x4.add(acc, f32x4.mul(a, b));
}

/** Store lanes 0..n-1 of v at o (n <= 4): a channel tail of a vector. */
// @ts-ignore: decorator
@inline export function storeLanes(o: usize, v: v128, n: i32): void {
  if (n >= 4) {
    v128.store(o, v);
  } else {
    if (n > 0) store<f32>(o, f32x4.extract_lane(v, 0));
    if (n > 1) store<f32>(o, f32x4.extract_lane(v, 1), 4);
    if (n > 2) store<f32>(o, f32x4.extract_lane(v, 2), 8);
  }
}

/** Load lanes 0..n-1 from p (n <= 4), the others zero: a channel tail, read without passing its end. */
// @ts-ignore: decorator
@inline export function loadLanes(p: usize, n: i32): v128 {
  if (n >= 4) return v128.load(p);
  let v = f32x4.splat(0);
  if (n > 0) v = f32x4.replace_lane(v, 0, load<f32>(p));
  if (n > 1) v = f32x4.replace_lane(v, 1, load<f32>(p, 4));
  if (n > 2) v = f32x4.replace_lane(v, 2, load<f32>(p, 8));
  return v;
}

// @ts-ignore: decorator
@inline export function imin(a: i32, b: i32): i32 {
  return a < b ? a : b;
}

// @ts-ignore: decorator
@inline export function imax(a: i32, b: i32): i32 {
  return a > b ? a : b;
}

// Transcendentals come from the host (Math.exp / Math.pow): AssemblyScript's own versions carry lookup
// tables as data segments and a mutable global, which a module shared by workers must not have.
// They are used only off the hot path (softmax rows, LRN with beta != 0.75, the references).
// @ts-ignore: decorator
@external("env", "exp") export declare function hostExp(x: f64): f64;
// @ts-ignore: decorator
@external("env", "pow") export declare function hostPow(x: f64, y: f64): f64;

/**
 * Bytes between two Winograd points' matrices of rows x cols floats (V: tiles x C, M: tiles x Cout): one
 * cache line more than the matrix. Where the matrix is a multiple of 4 KiB (the 14x14 layers' 16 tiles x
 * 64k channels), the vectors that one tile's transforms store or load, one per point, fell into the same
 * L1 sets: with F(4x4, 3x3) those layers took 1.15-1.18x the time (Mixed_4d's 128->256: 1.095 ms against
 * 0.939 with the extra line).
 */
// @ts-ignore: decorator
@inline export function pointBytes(rows: i32, cols: i32): usize {
  return (<usize>rows * <usize>cols << 2) + 64;
}
