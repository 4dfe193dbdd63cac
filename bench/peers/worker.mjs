// Worker-thread host for the peers that keep per-realm global state (one Wasm module per JS realm, its
// thread count fixed at initialisation): tfjs-backend-wasm and onnxruntime-web. Each configuration gets
// its own worker. Inferences are timed here, around the runner's call, so message passing is excluded.
import { parentPort, workerData } from 'node:worker_threads';

const { kind, threads, weights, onnx, input } = workerData;
const post = (m) => parentPort.postMessage(m);

let runner;
try {
  if (kind === 'tfjs-wasm') runner = await (await import('./tfjs.mjs')).createTfjsWasm({ weights, threads, input });
  else if (kind === 'ort-web') runner = await (await import('./ort-web.mjs')).createOrtWeb({ onnx, threads, input });
  else throw new Error(`unknown peer kind ${kind}`);
  post({ type: 'ready', info: runner.info });
} catch (e) {
  post({ type: 'error', message: e?.stack ?? String(e?.message ?? e) });
}

parentPort.on('message', async (msg) => {
  try {
    if (msg.type === 'run') {
      const t = performance.now();
      await runner.run();
      post({ type: 'ran', ms: performance.now() - t });
    } else if (msg.type === 'outputs') {
      post({ type: 'outputs', outputs: await runner.outputs() });
    } else if (msg.type === 'dispose') {
      await runner.dispose();
      post({ type: 'disposed' });
    }
  } catch (e) {
    post({ type: 'error', message: e?.stack ?? String(e?.message ?? e) });
  }
});
