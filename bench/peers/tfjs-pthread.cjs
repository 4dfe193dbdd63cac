// Pthread worker script for tfjs-backend-wasm's threaded build under Node worker_threads (see tfjs.mjs).
// The package ships its pthread worker code only as a string (to be turned into a Blob URL in browsers);
// evaluate that string here, with this module's `require` and `__filename` in scope, as Emscripten's
// Node path expects. It then loads the glue by the file path it is sent (mainScriptUrlOrBlob).
'use strict';
const { wasmWorkerContents } = require('@tensorflow/tfjs-backend-wasm/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js');
// The template literal turned the code's "\n" escapes into newlines inside string literals; undo that
// as tfjs does before making its Blob.
// eslint-disable-next-line no-eval
eval(wasmWorkerContents.replace(/\n/g, '\\n'));
