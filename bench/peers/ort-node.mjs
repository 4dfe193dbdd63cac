// inception_v1 (the ONNX graph of onnx.mjs) on onnxruntime-node's native CPU EP (the libonnxruntime
// shipped inside the package), in the main thread. intraOpNumThreads sets its thread pool; the graph is
// a chain, so inter-op parallelism stays off (sequential execution).
import ort from 'onnxruntime-node';
import { packageVersion } from './version.mjs';

export async function createOrtNode({ onnx, threads, input }) {
  const session = await ort.InferenceSession.create(onnx, {
    executionProviders: ['cpu'],
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
  });
  const feeds = { input: new ort.Tensor('float32', input.data, input.shape) };
  const version = packageVersion('onnxruntime-node');
  return {
    info: { threads, version, ep: 'cpu (native)' },
    async run() {
      const out = await session.run(feeds, ['Predictions']);
      return out.Predictions.data;
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
