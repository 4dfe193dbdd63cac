// Winograd weights, transformed at load: U = G g G^T for every (input channel, output channel) pair of an
// r x r convolution, in double, written into the alpha^2 packed GEMM matrices that winograd4x4 and
// winograd5x5 (and winograd3x3) read. The products are added in the same order from 0 as
// ../src/weights.ts packWinograd adds them, so the floats are the same; this runs two output channels per
// f64x2 (packWinograd in JavaScript took ~75 ms of googlenet's ~150 ms load here).
//
// Layout, as packWeights (../src/weights.ts) makes it: each matrix holds panels of nr output channels, a row
// of nr biases (left as they are: the caller zeroes the matrices first) and then cin rows; matrices are
// `mat` floats apart. w: HWIO f32 [r * r][cin][cout]; G: f64 [a][r]; tmp: (a * r + r * r) * 16 bytes.

/** Where packWeights puts row ci, output channel co (co and co + 1 share a panel when co and nr are even). */
// @ts-ignore: decorator
@inline function packedAt(ci: i32, co: i32, cin: i32, nr: i32): i32 {
  return (co / nr) * (cin + 1) * nr + (ci + 1) * nr + (co % nr);
}

/** A pair of weights (the second 0 past the last channel) as f64x2. */
// @ts-ignore: decorator
@inline function pairAt(p: usize, pair: bool): v128 {
  return f64x2.promote_low_f32x4(pair ? v128.load64_zero(p) : v128.load32_zero(p));
}

/** Store a pair of sums as two floats at q (only the first past the last channel). */
// @ts-ignore: decorator
@inline function storePair(q: usize, s: v128, pair: bool): void {
  const u = f32x4.demote_f64x2_zero(s);
  if (pair) v128.store64_lane(q, u, 0);
  else v128.store32_lane(q, u, 0);
}

export function winogradWeights(w: usize, cin: i32, cout: i32, out: usize, G: usize, a: i32, r: i32, mat: i32, nr: i32, tmp: usize): void {
  if (r == 3) {
    winogradWeights3(w, cin, cout, out, G, a, mat, nr, tmp);
    return;
  }
  const plane = <usize>(cin * cout) << 2;
  const zero = f64x2.splat(0);
  const gv = tmp + (<usize>(a * r) << 4);
  const rr = r * r;
  for (let ci = 0; ci < cin; ci++) {
    for (let co = 0; co < cout; co += 2) {
      const pair = co + 1 < cout;
      const src = w + (<usize>(ci * cout + co) << 2);
      // g: r x r pairs of weights (the second 0 past the last channel).
      for (let k = 0; k < rr; k++) {
        const p = src + <usize>k * plane;
        v128.store(gv + (<usize>k << 4), pairAt(p, pair));
      }
      // tmp = G g (a x r)
      for (let i = 0; i < a; i++) {
        for (let j = 0; j < r; j++) {
          let s = zero;
          for (let k = 0; k < r; k++) {
            s = f64x2.add(s, f64x2.mul(f64x2.splat(load<f64>(G + (<usize>(i * r + k) << 3))), v128.load(gv + (<usize>(k * r + j) << 4))));
          }
          v128.store(tmp + (<usize>(i * r + j) << 4), s);
        }
      }
      // U = tmp G^T (a x a), each into its matrix.
      const at = out + (<usize>packedAt(ci, co, cin, nr) << 2);
      for (let i = 0; i < a; i++) {
        for (let j = 0; j < a; j++) {
          let s = zero;
          for (let k = 0; k < r; k++) {
            s = f64x2.add(s, f64x2.mul(v128.load(tmp + (<usize>(i * r + k) << 4)), f64x2.splat(load<f64>(G + (<usize>(j * r + k) << 3)))));
          }
          storePair(at + (<usize>((i * a + j) * mat) << 2), s, pair);
        }
      }
    }
  }
}

/** G[i][k] (f64) in both lanes. */
// @ts-ignore: decorator
@inline function gAt(G: usize, i: i32, k: i32): v128 {
  return f64x2.splat(load<f64>(G + (<usize>(i * 3 + k) << 3)));
}

/** r = 3 with the sums over k written out and the 9 weights in registers (2x the loops above). */
function winogradWeights3(w: usize, cin: i32, cout: i32, out: usize, G: usize, a: i32, mat: i32, nr: i32, tmp: usize): void {
  const plane = <usize>(cin * cout) << 2;
  const zero = f64x2.splat(0);
  for (let ci = 0; ci < cin; ci++) {
    for (let co = 0; co < cout; co += 2) {
      const pair = co + 1 < cout;
      const p = w + (<usize>(ci * cout + co) << 2);
      const g0 = pairAt(p, pair), g1 = pairAt(p + plane, pair), g2 = pairAt(p + 2 * plane, pair);
      const g3 = pairAt(p + 3 * plane, pair), g4 = pairAt(p + 4 * plane, pair), g5 = pairAt(p + 5 * plane, pair);
      const g6 = pairAt(p + 6 * plane, pair), g7 = pairAt(p + 7 * plane, pair), g8 = pairAt(p + 8 * plane, pair);
      // tmp = G g (a x 3)
      for (let i = 0; i < a; i++) {
        const x = gAt(G, i, 0), y = gAt(G, i, 1), z = gAt(G, i, 2);
        const t = tmp + (<usize>(i * 3) << 4);
        v128.store(t, f64x2.add(f64x2.add(f64x2.add(zero, f64x2.mul(x, g0)), f64x2.mul(y, g3)), f64x2.mul(z, g6)));
        v128.store(t, f64x2.add(f64x2.add(f64x2.add(zero, f64x2.mul(x, g1)), f64x2.mul(y, g4)), f64x2.mul(z, g7)), 16);
        v128.store(t, f64x2.add(f64x2.add(f64x2.add(zero, f64x2.mul(x, g2)), f64x2.mul(y, g5)), f64x2.mul(z, g8)), 32);
      }
      // U = tmp G^T (a x a)
      const at = out + (<usize>packedAt(ci, co, cin, nr) << 2);
      for (let i = 0; i < a; i++) {
        const t = tmp + (<usize>(i * 3) << 4);
        const x = v128.load(t), y = v128.load(t, 16), z = v128.load(t, 32);
        for (let j = 0; j < a; j++) {
          const u = f64x2.add(f64x2.add(f64x2.add(zero, f64x2.mul(x, gAt(G, j, 0))), f64x2.mul(y, gAt(G, j, 1))), f64x2.mul(z, gAt(G, j, 2)));
          storePair(at + (<usize>((i * a + j) * mat) << 2), u, pair);
        }
      }
    }
  }
}

/** Scalar reference: one output channel at a time, in double. */
export function winogradWeights_ref(w: usize, cin: i32, cout: i32, out: usize, G: usize, a: i32, r: i32, mat: i32, nr: i32, tmp: usize): void {
  const plane = <usize>(cin * cout) << 2;
  for (let ci = 0; ci < cin; ci++) {
    for (let co = 0; co < cout; co++) {
      const src = w + (<usize>(ci * cout + co) << 2);
      for (let i = 0; i < a; i++) {
        for (let j = 0; j < r; j++) {
          let s: f64 = 0;
          for (let k = 0; k < r; k++) s += load<f64>(G + (<usize>(i * r + k) << 3)) * <f64>load<f32>(src + <usize>(k * r + j) * plane);
          store<f64>(tmp + (<usize>(i * r + j) << 3), s);
        }
      }
      const at = out + (<usize>packedAt(ci, co, cin, nr) << 2);
      for (let i = 0; i < a; i++) {
        for (let j = 0; j < a; j++) {
          let s: f64 = 0;
          for (let k = 0; k < r; k++) s += load<f64>(tmp + (<usize>(i * r + k) << 3)) * load<f64>(G + (<usize>(j * r + k) << 3));
          store<f32>(at + (<usize>((i * a + j) * mat) << 2), <f32>s);
        }
      }
    }
  }
}
