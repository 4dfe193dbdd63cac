// The demo page: loads the package's ESM build straight from dist/ (no bundler) and classifies the
// photo you choose or drop. Threads: Web Workers over shared memory when the page is cross-origin
// isolated, otherwise one thread (see the status line). `?threads=N` overrides the default.
import { loadModel } from '../../dist/browser.js';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const threads = params.has('threads') ? Number(params.get('threads')) : undefined;

const showError = (e) => {
  $('error').hidden = false;
  $('error').textContent = `${e?.name ?? 'Error'}: ${e?.message ?? e}`;
};

/** Draw the photo (a Blob or File), scaled to cover the 224x224 preview canvas. */
async function drawPreview(blob) {
  const img = await createImageBitmap(blob);
  const c = $('preview');
  const ctx = c.getContext('2d');
  const s = Math.max(c.width / img.width, c.height / img.height);
  ctx.clearRect(0, 0, c.width, c.height);
  ctx.drawImage(img, (c.width - img.width * s) / 2, (c.height - img.height * s) / 2, img.width * s, img.height * s);
  img.close();
}

function showResults(predictions, ms) {
  const ol = $('results');
  ol.replaceChildren(
    ...predictions.map((p) => {
      const li = document.createElement('li');
      const label = document.createElement('div');
      label.className = 'label';
      const name = document.createElement('span');
      name.textContent = p.label;
      const pct = document.createElement('span');
      pct.textContent = `${(p.probability * 100).toFixed(1)} %`;
      label.append(name, pct);
      const bar = document.createElement('div');
      bar.className = 'bar';
      const fill = document.createElement('div');
      fill.className = 'fill';
      fill.style.width = `${(p.probability * 100).toFixed(2)}%`; // CSSOM: allowed under the strict CSP
      bar.append(fill);
      li.append(label, bar);
      return li;
    }),
  );
  $('timing').textContent = `${ms.toFixed(0)} ms for this image (decode, preprocess, network) on ${model.info.threads} thread${model.info.threads > 1 ? 's' : ''}`;
  $('output').hidden = false;
}

let model;
/** For tests and the console: the model, the last answer, and classify a File or bytes. */
const demo = (window.demo = {
  model: undefined,
  last: undefined,
  busy: Promise.resolve(),
  /**
   * Classify a photo: a File (as the input and a drop give it; the package reads and decodes it) or encoded
   * PNG/JPEG bytes; then preview it. Resolves to { predictions, ms }.
   */
  async classify(photo) {
    const t0 = performance.now();
    const predictions = await model.classify(photo, { top: 5 });
    const ms = performance.now() - t0;
    showResults(predictions, ms);
    await drawPreview(photo instanceof Blob ? photo : new Blob([photo])).catch(() => undefined); // the answer stands without it
    return (demo.last = { predictions, ms, threads: model.info.threads });
  },
});

async function onFile(file) {
  if (!file) return;
  $('error').hidden = true;
  demo.busy = demo.classify(file).catch((e) => {
    demo.last = { error: { name: e.name, code: e.code, message: e.message } };
    showError(e);
  });
  await demo.busy;
}

$('file').addEventListener('change', (e) => onFile(e.target.files[0]));
const drop = $('drop');
for (const t of ['dragenter', 'dragover']) {
  drop.addEventListener(t, (e) => {
    e.preventDefault();
    drop.classList.add('over');
  });
}
for (const t of ['dragleave', 'drop']) drop.addEventListener(t, () => drop.classList.remove('over'));
drop.addEventListener('drop', (e) => {
  e.preventDefault();
  onFile(e.dataTransfer.files[0]);
});

demo.ready = (async () => {
  try {
    const t0 = performance.now();
    model = demo.model = await loadModel({ threads });
    const i = model.info;
    $('status').textContent =
      `Ready in ${((performance.now() - t0) / 1000).toFixed(1)} s: ${i.threads} thread${i.threads > 1 ? 's' : ''}` +
      ` (${crossOriginIsolated ? 'cross-origin isolated' : 'not cross-origin isolated'}), ${i.kernels} kernels` +
      (i.threadsNote ? `. ${i.threadsNote}` : '');
    return i;
  } catch (e) {
    $('status').textContent = 'The model could not load.';
    showError(e);
    throw e;
  }
})();
