// A Cloudflare Worker that classifies images: POST a PNG or JPEG, get the top-5 ImageNet classes as JSON.
//
//   curl --data-binary @photo.jpg http://127.0.0.1:8787/            (npx wrangler dev)
//   curl --data-binary @photo.jpg 'http://127.0.0.1:8787/?top=3'
//
// Wrangler resolves 'googlenet-wasm' through its "workerd" export condition (the edge entry: one thread,
// no file system, no run-time code generation) and hands the Worker the kernels as a compiled
// WebAssembly.Module (.wasm → CompiledWasm), the weights as an ArrayBuffer (wrangler.toml's Data rule)
// and the labels as text (.txt → Text).
import { loadModel, ImageDecodeError, InputError } from 'googlenet-wasm';
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

const json = (body, status = 200) =>
  new Response(JSON.stringify(body, null, 2) + '\n', { status, headers: { 'content-type': 'application/json; charset=utf-8' } });

export default {
  async fetch(request) {
    const usage = 'POST a PNG or JPEG image as the request body; the answer is the most probable ImageNet classes as JSON (?top=K, default 5)';
    if (request.method === 'GET' || request.method === 'HEAD') return json({ usage });
    if (request.method !== 'POST') return json({ error: `method ${request.method} not allowed`, usage }, 405);
    const top = Number(new URL(request.url).searchParams.get('top') ?? 5);
    const body = new Uint8Array(await request.arrayBuffer());
    if (body.length === 0) return json({ error: 'the request body is empty', usage }, 400);
    try {
      const m = await model();
      return json({ predictions: await m.classify(body, { top }) });
    } catch (e) {
      // The caller's fault (not an image, a damaged one, a bad ?top=): 400 with the reason.
      if (e instanceof ImageDecodeError || e instanceof InputError) return json({ error: e.message, code: e.code, usage }, 400);
      console.error(e);
      return json({ error: 'internal error', code: e?.code ?? 'ERR_INTERNAL' }, 500);
    }
  },
};
