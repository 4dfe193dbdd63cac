// inception_v1 (the ONNX graph of onnx.mjs) on onnxruntime-web's WebAssembly EP, in Node. Loaded inside a
// worker thread (bench/peers/worker.mjs): ort-web initialises its Wasm module once per JS realm with
// env.wasm.numThreads, so each thread count needs its own realm. The .mjs/.wasm files are the package's
// own (env.wasm.wasmPaths = its dist directory); nothing is fetched. With numThreads > 1 Emscripten's
// pthreads run on Node worker_threads (ort-web would warn and fall back to 1 thread if it could not).
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-web';
import { packageVersion } from './version.mjs';

export async function createOrtWeb({ onnx, threads, input }) {
  const distDir = path.dirname(fileURLToPath(import.meta.resolve('onnxruntime-web'))) + path.sep;
  ort.env.wasm.wasmPaths = distDir;
  ort.env.wasm.numThreads = threads;
  ort.env.wasm.proxy = false;
  const session = await ort.InferenceSession.create(onnx, { executionProviders: ['wasm'], graphOptimizationLevel: 'all' });
  if (ort.env.wasm.numThreads !== threads) throw new Error(`ort-web: asked for ${threads} threads, runs ${ort.env.wasm.numThreads}`);
  const feeds = { input: new ort.Tensor('float32', input.data, input.shape) };
  const version = packageVersion('onnxruntime-web');
  return {
    info: { threads: ort.env.wasm.numThreads, version, ep: 'wasm (ort-wasm-simd-threaded)' },
    async run() {
      const out = await session.run(feeds, ['Predictions']);
      const p = out.Predictions.data;
      out.Predictions.dispose();
      return p;
    },
    async outputs() {
      const out = await session.run(feeds);
      return { logits: out.Logits.data, predictions: out.Predictions.data };
    },
    async dispose() {
      await session.release();
    },
  };
}
