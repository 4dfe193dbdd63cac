// inception_v1 on TensorFlow.js's WebAssembly backend (XNNPACK), in Node. Loaded inside a worker
// thread (bench/peers/worker.mjs) so that each thread count gets its own tfjs engine and Wasm module.
//
// The graph is the one a tfjs converter would produce: batch norm folded, conv + bias + ReLU as one
// fused op (tf.fused.conv2d → FusedConv2D, XNNPACK), TF 'SAME' padding as tfjs's 'same'.
//
// Threads. tfjs-backend-wasm 4.22 refuses threads in Node (its WASM_HAS_MULTITHREAD_SUPPORT flag is
// hard-wired to false there, tfjs issue #3830), and its browser path hands Emscripten Blob URLs for the
// pthread worker script and the main script, which Node's worker_threads cannot load. The Emscripten
// glue itself does support Node (worker_threads), so for threads > 1 we register our own 'wasm' backend
// factory that instantiates the package's threaded-SIMD build with file paths instead: the pthread
// workers run bench/peers/tfjs-pthread.cjs (which evaluates the package's own pthread worker code) and
// import the package's glue file. Everything comes from node_modules; nothing is fetched.
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import * as tfwasm from '@tensorflow/tfjs-backend-wasm';
import { foldedConv, inceptionV1 } from './inception.mjs';

const require = createRequire(import.meta.url);
const pkgDir = path.dirname(require.resolve('@tensorflow/tfjs-backend-wasm/package.json'));
const wasmDir = path.join(pkgDir, 'dist') + path.sep;
const threadedGlue = path.join(pkgDir, 'wasm-out', 'tfjs-backend-wasm-threaded-simd.js');
const pthreadShim = fileURLToPath(new URL('./tfjs-pthread.cjs', import.meta.url));

/** The body of tfjs-backend-wasm's init() for the threaded-SIMD build, with file paths for Node. */
async function initThreaded(threads) {
  const factory = require(threadedGlue);
  // The backend caps its pool at emscripten_num_logical_cores() / 2 ("x86 has 2 threads per core"),
  // which Emscripten takes from os.cpus().length in Node: 1 on this 2-vCPU machine (a browser with
  // hardwareConcurrency 2 gets 1 thread too). Report 2 x `threads` cores while the module's static
  // constructors run so that the requested count is not capped.
  const cpus = os.cpus;
  os.cpus = () => {
    const c = cpus();
    return Array.from({ length: Math.max(c.length, 2 * threads) }, (_, i) => c[i % c.length]);
  };
  let module;
  try {
    module = await factory({
      locateFile: (p, prefix) => {
        if (p.endsWith('.worker.js')) return pthreadShim;
        if (p.endsWith('.wasm')) return wasmDir + 'tfjs-backend-wasm-threaded-simd.wasm';
        return prefix + p;
      },
      mainScriptUrlOrBlob: threadedGlue,
    });
  } finally {
    os.cpus = cpus;
  }
  module.tfjs = {
    init: module.cwrap('init', null, []),
    initWithThreadsCount: module.cwrap('init_with_threads_count', null, ['number']),
    getThreadsCount: module.cwrap('get_threads_count', 'number', []),
    registerTensor: module.cwrap('register_tensor', null, ['number', 'number', 'number']),
    disposeData: module.cwrap('dispose_data', null, ['number']),
    dispose: module.cwrap('dispose', null, []),
  };
  return module;
}

export async function createTfjsWasm({ weights, threads, input }) {
  tfwasm.setThreadsCount(threads);
  if (threads > 1) {
    tf.removeBackend('wasm');
    tf.registerBackend('wasm', async () => new tfwasm.BackendWasm(await initThreaded(threads)), 2);
  } else {
    tfwasm.setWasmPaths(wasmDir); // file paths: read with fs, no fetch
  }
  if (!(await tf.setBackend('wasm'))) throw new Error('tfjs: could not initialise the wasm backend');
  await tf.ready();
  const actualThreads = tfwasm.getThreadsCount();
  if (actualThreads !== threads) throw new Error(`tfjs: asked for ${threads} threads, XNNPACK's pool has ${actualThreads}`);
  const wasmFile = threads > 1 ? 'tfjs-backend-wasm-threaded-simd.wasm' : (await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT')) ? 'tfjs-backend-wasm-simd.wasm' : 'tfjs-backend-wasm.wasm';

  const params = new Map();
  const ops = {
    conv(x, scope, stride, relu) {
      let p = params.get(scope);
      if (!p) {
        const { kh, kw, cin, cout, w, b } = foldedConv(weights, scope);
        p = { filter: tf.keep(tf.tensor4d(w, [kh, kw, cin, cout])), bias: tf.keep(tf.tensor1d(b)) };
        params.set(scope, p);
      }
      return tf.fused.conv2d({ x, filter: p.filter, bias: p.bias, strides: stride, pad: 'same', activation: relu ? 'relu' : 'linear' });
    },
    maxPool: (x, k, stride) => tf.maxPool(x, k, stride, 'same'),
    avgPoolValid: (x, k) => tf.avgPool(x, k, 1, 'valid'),
    concat: (xs) => tf.concat(xs, 3),
    squeeze: (x) => tf.reshape(x, [x.shape[0], x.shape[3]]),
    softmax: (x) => tf.softmax(x),
  };
  const forward = () =>
    tf.tidy(() => {
      const { logits, predictions } = inceptionV1(ops, tf.tensor4d(input.data, input.shape));
      return [logits, predictions];
    });

  return {
    info: { backend: tf.getBackend(), threads: actualThreads, wasm: wasmFile, version: tfwasm.version_wasm },
    /** One inference; the probabilities read back (that is when the work is done). */
    async run() {
      const [logits, predictions] = forward();
      const p = await predictions.data();
      tf.dispose([logits, predictions]);
      return p;
    },
    async outputs() {
      const [logits, predictions] = forward();
      const out = { logits: await logits.data(), predictions: await predictions.data() };
      tf.dispose([logits, predictions]);
      return out;
    },
    async dispose() {
      for (const p of params.values()) tf.dispose([p.filter, p.bias]);
      tf.engine().reset();
    },
  };
}
