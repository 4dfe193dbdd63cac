// The page of worker.html: starts worker.js (which loads the model) and posts it the chosen photo's File
// (the worker reads and decodes it). Nothing here imports the package. For tests and the console: window.demo.ready (the model's
// info), window.demo.scope (what the worker's global scope offers) and window.demo.classify(bytes, top).
const $ = (id) => document.getElementById(id);
// The page's query (`?threads=N`, as on the demo page) goes to the worker, which loads the model with it.
const worker = new Worker(new URL(`./worker.js${location.search}`, import.meta.url), { type: 'module' });
const pending = new Map();
let nextId = 0;

const demo = (window.demo = {
  scope: undefined,
  ready: new Promise((resolve, reject) => {
    worker.addEventListener('message', ({ data }) => {
      if (data.ready) {
        demo.scope = data.scope;
        resolve(data.ready);
      } else if (data.failed) reject(Object.assign(new Error(data.failed.message), data.failed));
      else if (pending.has(data.id)) {
        const { resolve: ok, reject: fail } = pending.get(data.id);
        pending.delete(data.id);
        if (data.error) fail(Object.assign(new Error(data.error.message), data.error));
        else ok(data.predictions);
      }
    });
    worker.addEventListener('error', (e) => {
      // worker.js not found or not JavaScript (no message), or an uncaught error in it: nothing more will answer.
      const err = new Error(e.message || 'worker.js could not be loaded');
      reject(err);
      for (const { reject: fail } of pending.values()) fail(err);
      pending.clear();
    });
  }),
  /** Classify encoded PNG/JPEG bytes, or a Blob / File, in the worker; resolves to the top `top` predictions. */
  classify(bytes, top = 5) {
    const id = nextId++;
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject });
      worker.postMessage({ id, bytes, top });
    });
  },
});

const showError = (e) => {
  $('error').hidden = false;
  $('error').textContent = `${e?.name ?? 'Error'}: ${e?.message ?? e}`;
};

demo.ready.then((i) => {
  $('status').textContent = `Ready in the worker: ${i.threads} thread${i.threads > 1 ? 's' : ''}` +
    ` (${demo.scope.crossOriginIsolated ? 'cross-origin isolated' : 'not cross-origin isolated'}), ${i.kernels} kernels` +
    (i.threadsNote ? `. ${i.threadsNote}` : '');
}, (e) => {
  $('status').textContent = 'The model could not load.';
  showError(e);
});

$('file').addEventListener('change', async (e) => {
  const file = e.target.files[0];
  if (!file) return;
  $('error').hidden = true;
  try {
    const predictions = await demo.classify(file);
    $('results').replaceChildren(...predictions.map((p) => {
      const li = document.createElement('li');
      li.textContent = `${p.label}: ${(p.probability * 100).toFixed(1)} %`;
      return li;
    }));
  } catch (err) {
    showError(err);
  }
});
