#!/usr/bin/env node
/**
 * Convert the raw BVLC GoogLeNet per-layer float32 dump in ../shared/models/bvlc_googlenet/ into ONE
 * safetensors file, models/googlenet.safetensors (F32):
 *
 *   <caffe layer>/weight   conv: [out, kh, kw, in] (OHWI, exactly the raw file order); fc: [out, in]
 *   <caffe layer>/bias     [out]
 *
 * Every raw file's size and sha256 is checked against manifest.json; every shape is derived from
 * deploy.prototxt (num_output, kernel_size, and the bottom blob's channel count obtained by walking the
 * network) and must agree with the manifest's float32 count. Needs the TypeScript build
 * (`npm run build:ts`) for dist/safetensors.js.
 *
 * Usage: node scripts/convert-bvlc.mjs [--src DIR] [--out FILE]
 */
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync, mkdirSync, renameSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeSafetensors, parseSafetensors } from '../dist/safetensors.js';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
function arg(name, dflt) {
  const i = args.indexOf(name);
  return i >= 0 && args[i + 1] ? resolve(args[i + 1]) : dflt;
}
const srcDir = arg('--src', resolve(root, '..', 'shared', 'models', 'bvlc_googlenet'));
const outFile = arg('--out', join(root, 'models', 'googlenet.safetensors'));

const EXPECTED_TENSORS = 116;
const EXPECTED_VALUES = 6_998_552;

function fail(msg) {
  console.error(`convert-bvlc: ${msg}`);
  process.exit(1);
}

// ---------------------------------------------------------------------------------------------------
// Minimal protobuf text-format parser (enough for deploy.prototxt): messages become objects whose
// fields are always arrays (fields may repeat: bottom, param, dim, layer …).
function parsePrototxt(text) {
  const tokens = [];
  const re = /\s+|#[^\n]*|("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')|([{}:])|([^\s{}:#"']+)/gy;
  let m;
  while (re.lastIndex < text.length) {
    const at = re.lastIndex;
    m = re.exec(text);
    if (!m || re.lastIndex === at) fail(`deploy.prototxt: cannot tokenize at offset ${at}`);
    if (m[1] !== undefined) tokens.push({ kind: 'str', v: m[1].slice(1, -1) });
    else if (m[2] !== undefined) tokens.push({ kind: m[2] });
    else if (m[3] !== undefined) tokens.push({ kind: 'word', v: m[3] });
  }
  let i = 0;
  function message(closing) {
    const obj = {};
    for (;;) {
      const t = tokens[i];
      if (!t) {
        if (closing) fail('deploy.prototxt: unexpected end of file (missing "}")');
        return obj;
      }
      if (t.kind === '}') {
        if (!closing) fail('deploy.prototxt: unbalanced "}"');
        i++;
        return obj;
      }
      if (t.kind !== 'word') fail(`deploy.prototxt: expected a field name, got ${JSON.stringify(t)}`);
      i++;
      let value;
      if (tokens[i]?.kind === ':') i++;
      if (tokens[i]?.kind === '{') {
        i++;
        value = message(true);
      } else {
        const v = tokens[i++];
        if (!v || (v.kind !== 'word' && v.kind !== 'str')) fail(`deploy.prototxt: field ${t.v} has no value`);
        value = v.kind === 'word' && /^-?\d+(\.\d*)?(e-?\d+)?$/i.test(v.v) ? Number(v.v) : v.v;
      }
      (obj[t.v] ??= []).push(value);
    }
  }
  return message(false);
}

const one = (msg, field, dflt) => {
  const v = msg?.[field];
  if (!v) return dflt;
  if (v.length !== 1) fail(`deploy.prototxt: field ${field} repeated ${v.length} times where one was expected`);
  return v[0];
};

// ---------------------------------------------------------------------------------------------------
// 1. manifest + raw files (size and sha256).
const manifest = JSON.parse(readFileSync(join(srcDir, 'manifest.json'), 'utf8'));
const raw = new Map(); // manifest path -> { bytes, count }
let totalBytes = 0;
for (const f of manifest.files) {
  const p = join(srcDir, f.path);
  const bytes = readFileSync(p);
  if (bytes.length !== f.bytes) fail(`${f.path}: ${bytes.length} bytes, manifest says ${f.bytes}`);
  if (f.bytes !== 4 * f.float32_count) fail(`${f.path}: ${f.bytes} bytes is not 4 × ${f.float32_count} floats`);
  const sha = createHash('sha256').update(bytes).digest('hex');
  if (sha !== f.sha256) fail(`${f.path}: sha256 ${sha}, manifest says ${f.sha256}`);
  if (raw.has(f.path)) fail(`${f.path}: listed twice in the manifest`);
  raw.set(f.path, { bytes, count: f.float32_count });
  totalBytes += bytes.length;
}
if (manifest.total_bytes !== undefined && totalBytes !== manifest.total_bytes) {
  fail(`raw files hold ${totalBytes} bytes, manifest total_bytes says ${manifest.total_bytes}`);
}
console.log(`verified ${raw.size} raw files (${totalBytes} bytes), sizes and sha256 match manifest.json`);

// ---------------------------------------------------------------------------------------------------
// 2. shapes from deploy.prototxt: walk the layers tracking each blob's channel count.
const net = parsePrototxt(readFileSync(join(srcDir, 'deploy.prototxt'), 'utf8'));
const channels = new Map(); // blob name -> channels
const plan = []; // { layer, weightShape, biasShape }
for (const layer of net.layer ?? []) {
  const name = one(layer, 'name');
  const type = one(layer, 'type');
  const bottoms = layer.bottom ?? [];
  const tops = layer.top ?? [];
  const inCh = bottoms.map((b) => {
    const c = channels.get(b);
    if (c === undefined) fail(`layer ${name}: bottom blob ${b} has no known channel count`);
    return c;
  });
  let outCh;
  switch (type) {
    case 'Input': {
      const dims = one(one(layer, 'input_param'), 'shape').dim;
      if (!dims || dims.length !== 4) fail(`layer ${name}: expected a 4-D input shape`);
      outCh = dims[1];
      break;
    }
    case 'Convolution': {
      const p = one(layer, 'convolution_param');
      const ks = p.kernel_size ?? [];
      const kh = one(p, 'kernel_h', ks[0]);
      const kw = one(p, 'kernel_w', ks[1] ?? ks[0]);
      const group = one(p, 'group', 1);
      const out = one(p, 'num_output');
      if (group !== 1) fail(`layer ${name}: grouped convolution (group ${group}) is not supported`);
      if (one(p, 'bias_term', 'true') === 'false') fail(`layer ${name}: convolution without bias is not expected`);
      if (!(kh > 0 && kw > 0 && out > 0)) fail(`layer ${name}: bad convolution_param`);
      if (inCh.length !== 1) fail(`layer ${name}: convolution with ${inCh.length} bottoms`);
      plan.push({ layer: name, weightShape: [out, kh, kw, inCh[0]], biasShape: [out] });
      outCh = out;
      break;
    }
    case 'InnerProduct': {
      const out = one(one(layer, 'inner_product_param'), 'num_output');
      // The only InnerProduct here follows a 7×7 average pool down to 1×1, so its input width is the
      // channel count; the manifest's float count checks that below.
      plan.push({ layer: name, weightShape: [out, inCh[0]], biasShape: [out] });
      outCh = out;
      break;
    }
    case 'Concat':
      outCh = inCh.reduce((a, b) => a + b, 0);
      break;
    case 'ReLU':
    case 'Pooling':
    case 'LRN':
    case 'Dropout':
    case 'Softmax':
      outCh = inCh[0];
      break;
    default:
      fail(`layer ${name}: unknown layer type ${type}`);
  }
  for (const t of tops) channels.set(t, outCh);
}

// ---------------------------------------------------------------------------------------------------
// 3. assemble tensors, cross-checking every shape against the manifest's float count.
const tensors = new Map();
const used = new Set();
const prod = (s) => s.reduce((a, b) => a * b, 1);
function take(path, shape, tensorName) {
  const r = raw.get(path);
  if (!r) fail(`${tensorName}: raw file ${path} is not in the manifest`);
  if (r.count !== prod(shape)) fail(`${tensorName}: shape [${shape}] needs ${prod(shape)} floats, ${path} holds ${r.count}`);
  used.add(path);
  // Copy into an aligned Float32Array (the file is little-endian float32; so is every supported host).
  const data = new Float32Array(r.count);
  new Uint8Array(data.buffer).set(r.bytes);
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) fail(`${tensorName}: non-finite value ${data[i]} at element ${i}`);
  }
  tensors.set(tensorName, { shape, data });
}
for (const { layer, weightShape, biasShape } of plan) {
  take(`${layer}_filter.bin`, weightShape, `${layer}/weight`);
  take(`${layer}_bias.bin`, biasShape, `${layer}/bias`);
}
const unused = [...raw.keys()].filter((p) => !used.has(p));
if (unused.length) fail(`raw files not used by any layer of deploy.prototxt: ${unused.join(', ')}`);
const totalValues = [...tensors.values()].reduce((a, t) => a + t.data.length, 0);
if (tensors.size !== EXPECTED_TENSORS) fail(`built ${tensors.size} tensors, expected ${EXPECTED_TENSORS}`);
if (totalValues !== EXPECTED_VALUES) fail(`built ${totalValues} values, expected ${EXPECTED_VALUES}`);
if (manifest.total_params !== undefined && totalValues !== manifest.total_params) {
  fail(`built ${totalValues} values, manifest total_params says ${manifest.total_params}`);
}

// ---------------------------------------------------------------------------------------------------
// 4. write, then read back and compare.
const metadata = {
  model: 'BVLC GoogLeNet (Caffe model zoo bvlc_googlenet), ImageNet ILSVRC-2012, 1000 classes, main head only (no auxiliary classifiers)',
  source:
    'github.com/chaosmail/caffejs commit 424d98682b50dd88d0b8cca401c66855709bd013, models/bvlc_googlenet/weights/ (per-layer dump of bvlc_googlenet.caffemodel)',
  license: 'released by BVLC for unrestricted use (Caffe model zoo bvlc_googlenet)',
  layout:
    'conv <layer>/weight [out,kh,kw,in] (OHWI); fc loss3/classifier/weight [out,in] = [1000,1024]; <layer>/bias [out]; names are Caffe layer names',
  input: '224x224, BGR channel order, values 0..255 minus mean B=104 G=117 R=123, no scaling',
  converter: 'scripts/convert-bvlc.mjs',
};
const out = encodeSafetensors(tensors, metadata);
const check = parseSafetensors(out);
if (check.tensors.size !== tensors.size) fail('read-back: tensor count differs');
for (const [name, t] of tensors) {
  const u = check.tensors.get(name);
  if (!u || u.shape.join() !== t.shape.join()) fail(`read-back: ${name} shape differs`);
  const a = new Uint32Array(t.data.buffer);
  const b = new Uint32Array(u.data.buffer, u.data.byteOffset, u.data.length);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) fail(`read-back: ${name} differs at element ${i}`);
}
mkdirSync(dirname(outFile), { recursive: true });
const tmp = `${outFile}.tmp-${process.pid}`;
writeFileSync(tmp, out);
renameSync(tmp, outFile);
const sha = createHash('sha256').update(out).digest('hex');
console.log(`wrote ${outFile}: ${tensors.size} tensors, ${totalValues} values, ${out.length} bytes, sha256 ${sha}`);
