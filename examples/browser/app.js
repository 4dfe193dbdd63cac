// The demo page: loads the package's ESM build straight from dist/ (no bundler) and classifies the
// photo you choose or drop. Threads: Web Workers over shared memory when the page is cross-origin
// isolated, otherwise one thread (see the status line). `?threads=N` overrides the default.
import { loadModel, decodeImage } from '../../dist/browser.js';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const threads = params.has('threads') ? Number(params.get('threads')) : undefined;

const showError = (e) => {
  $('error').hidden = false;
  $('error').textContent = `${e?.name ?? 'Error'}: ${e?.message ?? e}`;
};

/** Draw the decoded RGB photo, scaled to fit the 224x224 canvas. */
function drawPreview(img) {
  const full = new OffscreenCanvas(img.width, img.height);
  const rgba = new ImageData(img.width, img.height);
  for (let i = 0, j = 0; i < img.width * img.height; i++, j += 4) {
    rgba.data[j] = img.data[i * 3];
    rgba.data[j + 1] = img.data[i * 3 + 1];
    rgba.data[j + 2] = img.data[i * 3 + 2];
    rgba.data[j + 3] = 255;
  }
  full.getContext('2d').putImageData(rgba, 0, 0);
  const c = $('preview');
  const ctx = c.getContext('2d');
  const s = Math.max(c.width / img.width, c.height / img.height);
  ctx.clearRect(0, 0, c.width, c.height);
  ctx.drawImage(full, (c.width - img.width * s) / 2, (c.height - img.height * s) / 2, img.width * s, img.height * s);
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
/** For tests and the console: the model, the last answer, and classify by bytes. */
const demo = (window.demo = {
  model: undefined,
  last: undefined,
  busy: Promise.resolve(),
  /** Decode, preview and classify encoded PNG/JPEG bytes; resolves to { predictions, ms }. */
  async classify(bytes) {
    const t0 = performance.now();
    const img = decodeImage(bytes);
    drawPreview(img);
    const predictions = await model.classify(img, { top: 5 });
    const ms = performance.now() - t0;
    showResults(predictions, ms);
    return (demo.last = { predictions, ms, threads: model.info.threads });
  },
});

async function onFile(file) {
  if (!file) return;
  $('error').hidden = true;
  demo.busy = demo.classify(new Uint8Array(await file.arrayBuffer())).catch((e) => {
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
