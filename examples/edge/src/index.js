// A Cloudflare Worker that classifies images: POST a PNG or JPEG, get the top-5 ImageNet classes as JSON.
//
//   curl --data-binary @photo.jpg http://127.0.0.1:8787/            (npx wrangler dev)
//   curl --data-binary @photo.jpg 'http://127.0.0.1:8787/?top=3'
//
// Wrangler resolves 'googlenet-wasm' through its "workerd" export condition (the edge entry: one thread,
// no file system, no run-time code generation) and hands the Worker the kernels as a compiled
// WebAssembly.Module (.wasm → CompiledWasm), the weights as an ArrayBuffer (wrangler.toml's Data rule)
// and the labels as text (.txt → Text).
import { loadModel, decodeImage, ImageDecodeError, InputError } from 'googlenet-wasm';
import wasm from 'googlenet-wasm/build/kernels.wasm';
import weights from 'googlenet-wasm/models/googlenet.safetensors';
import labels from 'googlenet-wasm/labels/synset_words.txt';

/** One model per isolate, loaded by the first request and reused by the next ones. */
let loading;
function model() {
  loading ??= loadModel({ wasm, weights, labels }).catch((e) => {
    loading = undefined; // let the next request try again
    throw e;
  });
  return loading;
}

/**
 * The largest request body taken (413 above it). The model already holds ~75 MB of an isolate's 128 MB;
 * decoding is bounded apart from this (decodeImage's maxDecodeBytes, 32 MiB by default on this entry).
 */
const MAX_BODY_BYTES = 16 * 2 ** 20;

const json = (body, status = 200) =>
  new Response(JSON.stringify(body, null, 2) + '\n', { status, headers: { 'content-type': 'application/json; charset=utf-8' } });

export default {
  async fetch(request) {
    const usage = 'POST a PNG or JPEG image as the request body; the answer is the most probable ImageNet classes as JSON (?top=K, default 5)';
    if (request.method === 'GET' || request.method === 'HEAD') return json({ usage });
    if (request.method !== 'POST') return json({ error: `method ${request.method} not allowed`, usage }, 405);
    const tooLarge = { error: `the request body is larger than ${MAX_BODY_BYTES} bytes`, code: 'ERR_TOO_LARGE', usage };
    if (Number(request.headers.get('content-length')) > MAX_BODY_BYTES) return json(tooLarge, 413);
    const body = new Uint8Array(await request.arrayBuffer()); // (a chunked body has no content-length)
    if (body.length > MAX_BODY_BYTES) return json(tooLarge, 413);
    if (body.length === 0) return json({ error: 'the request body is empty', usage }, 400);
    const topParam = new URL(request.url).searchParams.get('top');
    if (topParam !== null && !/^[1-9][0-9]{0,3}$/.test(topParam)) {
      return json({ error: `?top must be a whole number from 1 to 9999, got '${topParam}'`, code: 'ERR_INPUT', usage }, 400);
    }
    const top = topParam === null ? 5 : Number(topParam);
    try {
      // Decoded before the model is asked for, so that a body that is no image (or too large to decode)
      // gets its 400 at once, and never makes a cold isolate load the model. minSize 256, as classify
      // decodes: a large baseline JPEG decodes at 1/4 or 1/8 scale. The edge entry's decodeImage refuses
      // by default what would take more than 32 MiB to decode.
      const image = decodeImage(body, { minSize: 256 });
      const m = await model();
      return json({ predictions: await m.classify(image, { top }) });
    } catch (e) {
      // The caller's fault (not an image, a damaged one, a bad ?top=): 400 with the reason.
      if (e instanceof ImageDecodeError || e instanceof InputError) return json({ error: e.message, code: e.code, usage }, 400);
      console.error(e);
      return json({ error: 'internal error', code: e?.code ?? 'ERR_INTERNAL' }, 500);
    }
  },
};
