// A minimal ONNX (protobuf) encoder and the inception_v1 graph as an ONNX ModelProto (opset 13).
// No protobuf library: ONNX only needs varints, 32-bit floats and length-delimited fields.
// Field numbers from onnx/onnx.proto (ModelProto, GraphProto, NodeProto, AttributeProto, TensorProto,
// ValueInfoProto, TypeProto, TensorShapeProto, OperatorSetIdProto).
import { foldedConv, inceptionV1, samePads } from './inception.mjs';

// ---------------------------------------------------------------------------------------------------
// Protobuf wire format

const utf8 = new TextEncoder();

/** Base-128 varint of an int64 (negative numbers as 10-byte two's complement, as protobuf does). */
function varint(n) {
  let v = BigInt.asUintN(64, BigInt(n));
  const out = [];
  while (v >= 0x80n) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return Uint8Array.from(out);
}

const key = (field, wireType) => varint((field << 3) | wireType);

function concat(parts) {
  const flat = parts.flat(Infinity);
  let n = 0;
  for (const p of flat) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of flat) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Wire type 0: int32 / int64 / enum / bool. */
const int = (field, n) => [key(field, 0), varint(n)];
/** Wire type 5: float. */
function float(field, x) {
  const b = new Uint8Array(4);
  new DataView(b.buffer).setFloat32(0, x, true);
  return [key(field, 5), b];
}
/** Wire type 2: bytes, string or embedded message (given as its encoded parts). */
function bytes(field, data) {
  const b = data instanceof Uint8Array ? data : concat(data);
  return [key(field, 2), varint(b.length), b];
}
const string = (field, s) => bytes(field, utf8.encode(s));
/** Repeated int64, unpacked (proto2 default; parsers accept either form). */
const ints = (field, list) => list.map((n) => int(field, n));

// ---------------------------------------------------------------------------------------------------
// ONNX messages

const DataType = { FLOAT: 1, INT64: 7 };
const AttrType = { FLOAT: 1, INT: 2, STRING: 3, INTS: 7 };

/** AttributeProto: name 1, f 2, i 3, s 4, ints 8, type 20. */
function attribute(name, value) {
  if (Array.isArray(value)) return [string(1, name), ints(8, value), int(20, AttrType.INTS)];
  if (typeof value === 'string') return [string(1, name), bytes(4, utf8.encode(value)), int(20, AttrType.STRING)];
  if (Number.isInteger(value)) return [string(1, name), int(3, value), int(20, AttrType.INT)];
  return [string(1, name), float(2, value), int(20, AttrType.FLOAT)];
}

/** NodeProto: input 1, output 2, name 3, op_type 4, attribute 5. */
function node(opType, inputs, outputs, name, attrs = {}) {
  return [
    inputs.map((s) => string(1, s)),
    outputs.map((s) => string(2, s)),
    string(3, name),
    string(4, opType),
    Object.entries(attrs).map(([k, v]) => bytes(5, attribute(k, v))),
  ];
}

/** TensorProto: dims 1, data_type 2, name 8, raw_data 9 (little endian). */
function tensor(name, dims, data) {
  const raw = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  const type = data instanceof BigInt64Array ? DataType.INT64 : DataType.FLOAT;
  return [ints(1, dims), int(2, type), string(8, name), bytes(9, raw)];
}

/** ValueInfoProto (name 1, type 2) → TypeProto.tensor_type 1 → elem_type 1, shape 2 → dim 1 → dim_value 1. */
function valueInfo(name, dims) {
  const shape = dims.map((d) => bytes(1, int(1, d)));
  return [string(1, name), bytes(2, bytes(1, [int(1, DataType.FLOAT), bytes(2, shape)]))];
}

/** ModelProto: ir_version 1, producer_name 2, graph 7, opset_import 8 (domain 1, version 2). */
function model({ nodes, initializers, inputs, outputs, name }) {
  const graph = [
    nodes.map((n) => bytes(1, n)),
    string(2, name),
    initializers.map((t) => bytes(5, t)),
    inputs.map((v) => bytes(11, v)),
    outputs.map((v) => bytes(12, v)),
  ];
  return concat([int(1, 8), string(2, 'googlenet-wasm bench/peers'), bytes(7, graph), bytes(8, [string(1, ''), int(2, 13)])]);
}

// ---------------------------------------------------------------------------------------------------
// inception_v1 → ONNX

/** HWIO → OIHW. */
function toOIHW(w, kh, kw, cin, cout) {
  const out = new Float32Array(w.length);
  for (let y = 0; y < kh; y++) {
    for (let x = 0; x < kw; x++) {
      for (let i = 0; i < cin; i++) {
        const src = ((y * kw + x) * cin + i) * cout;
        for (let o = 0; o < cout; o++) out[((o * cin + i) * kh + y) * kw + x] = w[src + o];
      }
    }
  }
  return out;
}

/**
 * The TF-slim inception_v1 graph (BN folded) as ONNX bytes. The model takes the NHWC input as it is
 * (a Transpose to NCHW is the first node) and outputs `Logits` and `Predictions`, both [N, classes].
 */
export function inceptionV1Onnx(weights, { batch = 1, height = 224, width = 224 } = {}) {
  const nodes = [];
  const initializers = [];
  let counter = 0;
  const uid = (base) => `${base}_${counter++}`;
  // Values carry their NCHW shape so that 'SAME' pads can be computed.
  const ops = {
    conv(x, scope, stride, relu) {
      const { kh, kw, cin, cout, w, b } = foldedConv(weights, scope);
      if (cin !== x.c) throw new Error(`onnx: ${scope} expects ${cin} channels, got ${x.c}`);
      const ph = samePads(x.h, kh, stride);
      const pw = samePads(x.w, kw, stride);
      initializers.push(tensor(`${scope}/W`, [cout, cin, kh, kw], toOIHW(w, kh, kw, cin, cout)));
      initializers.push(tensor(`${scope}/B`, [cout], b));
      const out = relu ? `${scope}/conv` : scope;
      nodes.push(node('Conv', [x.name, `${scope}/W`, `${scope}/B`], [out], `${scope}/Conv`, {
        kernel_shape: [kh, kw],
        strides: [stride, stride],
        pads: [ph.before, pw.before, ph.after, pw.after],
      }));
      if (relu) nodes.push(node('Relu', [out], [scope], `${scope}/Relu`));
      return { name: scope, c: cout, h: ph.out, w: pw.out };
    },
    maxPool(x, k, stride) {
      // ONNX MaxPool ignores padded cells, as TF's SAME max pool does.
      const ph = samePads(x.h, k, stride);
      const pw = samePads(x.w, k, stride);
      const name = uid(`MaxPool_${k}x${k}_s${stride}`);
      nodes.push(node('MaxPool', [x.name], [name], name, {
        kernel_shape: [k, k],
        strides: [stride, stride],
        pads: [ph.before, pw.before, ph.after, pw.after],
      }));
      return { name, c: x.c, h: ph.out, w: pw.out };
    },
    avgPoolValid(x, k) {
      const name = uid('AvgPool');
      nodes.push(node('AveragePool', [x.name], [name], name, { kernel_shape: [k, k], strides: [1, 1] }));
      return { name, c: x.c, h: x.h - k + 1, w: x.w - k + 1 };
    },
    concat(xs) {
      const name = uid('Concat');
      nodes.push(node('Concat', xs.map((x) => x.name), [name], name, { axis: 1 }));
      return { name, c: xs.reduce((a, x) => a + x.c, 0), h: xs[0].h, w: xs[0].w };
    },
    squeeze(x) {
      if (x.h !== 1 || x.w !== 1) throw new Error(`onnx: cannot squeeze logits of ${x.h}x${x.w}`);
      nodes.push(node('Flatten', [x.name], ['Logits'], 'Logits/Flatten', { axis: 1 }));
      return { name: 'Logits', c: x.c };
    },
    softmax(x) {
      nodes.push(node('Softmax', [x.name], ['Predictions'], 'Predictions/Softmax', { axis: 1 }));
      return { name: 'Predictions', c: x.c };
    },
  };
  nodes.push(node('Transpose', ['input'], ['input_nchw'], 'input/NHWC_to_NCHW', { perm: [0, 3, 1, 2] }));
  const { logits } = inceptionV1(ops, { name: 'input_nchw', c: 3, h: height, w: width });
  return model({
    name: 'InceptionV1',
    nodes,
    initializers,
    inputs: [valueInfo('input', [batch, height, width, 3])],
    outputs: [valueInfo('Logits', [batch, logits.c]), valueInfo('Predictions', [batch, logits.c])],
  });
}
