// A module Web Worker that loads the model and classifies the images posted to it, so the page's own
// thread does none of the work (fetching and packing the weights, decoding, the network). It imports the
// package's browser entry as the demo page does; the model's threads are then workers of this worker
// (nested workers), over shared memory when the page is cross-origin isolated. Started by worker-page.js.
// Posts { ready: model.info, scope } (or { failed: error }) once, then answers { id, bytes, top } (bytes:
// encoded bytes or a Blob / File) with { id, predictions } or { id, error }. `?threads=N` on its URL (the
// page passes its own query on) overrides the default thread count.
import { loadModel } from '../../dist/browser.js';

const plain = (e) => ({ name: e?.name ?? 'Error', code: e?.code, message: e?.message ?? String(e) });
// What this worker's global scope offers (for the page's status line and the tests).
const scope = {
  crossOriginIsolated,
  SharedArrayBuffer: typeof SharedArrayBuffer,
  Worker: typeof Worker,
  window: typeof window,
  document: typeof document,
};

const params = new URLSearchParams(location.search);
const model = loadModel({ threads: params.has('threads') ? Number(params.get('threads')) : undefined });
model.then(
  (m) => postMessage({ ready: { ...m.info }, scope }),
  (e) => postMessage({ failed: plain(e) }),
);

addEventListener('message', async ({ data: { id, bytes, top } }) => {
  try {
    const predictions = await (await model).classify(bytes, { top });
    postMessage({ id, predictions });
  } catch (e) {
    postMessage({ id, error: plain(e) });
  }
});
