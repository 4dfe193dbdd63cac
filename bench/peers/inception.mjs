// The TF-slim inception_v1 graph, written once and shared by the peer runners (ONNX builder, tfjs).
// Ported from test/oracle/tfjs-oracle.ts (which follows TF-slim nets/inception_v1.py): conv + batch norm
// (no scale, epsilon 0.001) + ReLU with 'SAME' padding; max pools 3x3/2 SAME, MaxPool_5a_2x2 2x2/2 SAME,
// inception pool branch 3x3/1 SAME; AvgPool_0a_7x7 7x7/1 VALID; Logits 1x1 conv + biases, squeezed;
// Predictions softmax. Batch norm is folded into the convolution here (in double precision).

export const BN_EPSILON = 0.001;

/**
 * Fold the batch norm of `scope` into its convolution: w' = w / sqrt(var + eps) per output channel,
 * b' = beta - mean / sqrt(var + eps). Computed in double, rounded once to float32. HWIO layout kept.
 * The Logits scope has biases and no batch norm: its weights are returned as they are.
 */
export function foldedConv(weights, scope) {
  const wt = weights.get(`${scope}/weights`);
  if (!wt) throw new Error(`peers: weight ${scope}/weights is missing`);
  const [kh, kw, cin, cout] = wt.shape;
  const biases = weights.get(`${scope}/biases`);
  if (biases) return { kh, kw, cin, cout, w: wt.data, b: biases.data };
  const beta = weights.get(`${scope}/BatchNorm/beta`).data;
  const mean = weights.get(`${scope}/BatchNorm/moving_mean`).data;
  const variance = weights.get(`${scope}/BatchNorm/moving_variance`).data;
  const scale = new Float64Array(cout);
  const b = new Float32Array(cout);
  for (let o = 0; o < cout; o++) {
    scale[o] = 1 / Math.sqrt(variance[o] + BN_EPSILON);
    b[o] = beta[o] - mean[o] * scale[o];
  }
  const w = new Float32Array(wt.data.length);
  for (let i = 0; i < w.length; i++) w[i] = wt.data[i] * scale[i % cout];
  return { kh, kw, cin, cout, w, b };
}

/** TF 'SAME': output ceil(in / stride); total padding split with the smaller half before. */
export function samePads(size, k, stride) {
  const out = Math.ceil(size / stride);
  const total = Math.max((out - 1) * stride + k - size, 0);
  const before = Math.floor(total / 2);
  return { out, before, after: total - before };
}

/**
 * Walk the graph with the given ops:
 *   conv(x, scope, stride, relu) — conv (SAME) + folded BN / biases (+ ReLU)
 *   maxPool(x, k, stride)        — SAME
 *   avgPoolValid(x, k)           — VALID, stride 1
 *   concat(xs)                   — channels
 *   squeeze(x)                   — [1, 1, 1, C] → [N, C]
 *   softmax(x)
 * Returns { logits, predictions }.
 */
export function inceptionV1(ops, input) {
  const S = 'InceptionV1';
  const conv = (x, name, stride = 1) => ops.conv(x, `${S}/${name}`, stride, true);
  const mixed = (x, s) => {
    const b0 = conv(x, `${s}/Branch_0/Conv2d_0a_1x1`);
    const b1 = conv(conv(x, `${s}/Branch_1/Conv2d_0a_1x1`), `${s}/Branch_1/Conv2d_0b_3x3`);
    const b2name = s === 'Mixed_5b' ? 'Conv2d_0a_3x3' : 'Conv2d_0b_3x3'; // TF-slim's naming quirk
    const b2 = conv(conv(x, `${s}/Branch_2/Conv2d_0a_1x1`), `${s}/Branch_2/${b2name}`);
    const b3 = conv(ops.maxPool(x, 3, 1), `${s}/Branch_3/Conv2d_0b_1x1`);
    return ops.concat([b0, b1, b2, b3]);
  };
  let net = conv(input, 'Conv2d_1a_7x7', 2);
  net = ops.maxPool(net, 3, 2);
  net = conv(net, 'Conv2d_2b_1x1');
  net = conv(net, 'Conv2d_2c_3x3');
  net = ops.maxPool(net, 3, 2);
  net = mixed(net, 'Mixed_3b');
  net = mixed(net, 'Mixed_3c');
  net = ops.maxPool(net, 3, 2);
  for (const s of ['Mixed_4b', 'Mixed_4c', 'Mixed_4d', 'Mixed_4e', 'Mixed_4f']) net = mixed(net, s);
  net = ops.maxPool(net, 2, 2);
  net = mixed(net, 'Mixed_5b');
  net = mixed(net, 'Mixed_5c');
  net = ops.avgPoolValid(net, 7);
  // Dropout is the identity at inference.
  const logits = ops.squeeze(ops.conv(net, `${S}/Logits/Conv2d_0c_1x1`, 1, false));
  return { logits, predictions: ops.softmax(logits) };
}
