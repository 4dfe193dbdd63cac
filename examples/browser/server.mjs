#!/usr/bin/env node
/**
 * The demo's web server: plain Node, no dependencies. Serves the package folder (the page imports
 * dist/ as is, unbundled) on 127.0.0.1 in three variants, chosen by the path prefix:
 *
 *   /…          COOP + COEP: the page is cross-origin isolated, so SharedArrayBuffer and threads work
 *   /no-coi/…   no isolation headers: the model falls back to one thread
 *   /csp/…      COOP + COEP and a strict Content-Security-Policy ('self' and 'wasm-unsafe-eval' only)
 *
 * Browsers cannot resolve bare specifiers (`import … from 'jpeg-js'`) without an import map, and an
 * inline import map is itself blocked by a strict CSP; so, like any dev server (Vite, @web/dev-server),
 * this one rewrites bare specifiers in the JavaScript it serves to /node_modules/ paths (package.json
 * `exports` with the browser conditions), and wraps the one CommonJS dependency (jpeg-js) as an ES module.
 *
 *   node examples/browser/server.mjs [--port 8080]     (npm run demo)
 */
import { createServer } from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, extname, join, normalize, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.txt': 'text/plain; charset=utf-8',
  '.map': 'application/json',
};

export const STRICT_CSP = "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; object-src 'none'; base-uri 'none'";

const VARIANTS = [
  { prefix: '/no-coi', isolated: false, csp: false },
  { prefix: '/csp', isolated: true, csp: true },
  { prefix: '', isolated: true, csp: false },
];

const CONDITIONS = ['browser', 'import', 'module', 'default'];

/** The target of a package.json `exports` entry under the browser conditions. */
function pickExport(entry) {
  if (typeof entry === 'string') return entry;
  if (Array.isArray(entry)) {
    for (const e of entry) {
      const r = pickExport(e);
      if (r) return r;
    }
    return undefined;
  }
  if (entry && typeof entry === 'object') {
    for (const [k, v] of Object.entries(entry)) {
      if (CONDITIONS.includes(k)) {
        const r = pickExport(v);
        if (r) return r;
      }
    }
  }
  return undefined;
}

/** Resolve a bare specifier from a file (node_modules lookup upwards), to { file, pkgDir, cjs }. */
function resolveBare(spec, fromFile) {
  const parts = spec.split('/');
  const name = spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
  const sub = spec.slice(name.length);
  for (let dir = dirname(fromFile); ; dir = dirname(dir)) {
    const pkgDir = join(dir, 'node_modules', name);
    if (existsSync(join(pkgDir, 'package.json'))) {
      const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
      let target;
      if (pkg.exports) {
        const exp = typeof pkg.exports === 'string' || Array.isArray(pkg.exports) || !Object.keys(pkg.exports).some((k) => k.startsWith('.'))
          ? { '.': pkg.exports }
          : pkg.exports;
        target = pickExport(exp['.' + sub]);
      } else {
        target = sub ? '.' + sub : pkg.module ?? pkg.main ?? 'index.js';
      }
      if (!target) throw new Error(`cannot resolve ${spec} for the browser`);
      let file = join(pkgDir, target);
      if (!extname(file) && existsSync(file + '.js')) file += '.js';
      const cjs = file.endsWith('.cjs') || (file.endsWith('.js') && pkg.type !== 'module' && !(pkg.module && join(pkgDir, pkg.module) === file));
      return { file, pkgDir, cjs };
    }
    if (dir === dirname(dir) || !dir.startsWith(ROOT.replace(/[\\/]$/, ''))) throw new Error(`package ${name} not found`);
  }
}

const urlPath = (file) => '/' + relative(ROOT, file).split(sep).join('/');

const SPECIFIER = /(\bimport\s*\(\s*|\bimport\s+(?:[\w$*{}\s,]+?\s+from\s+)?|\bexport\s+(?:\*|\*\s+as\s+[\w$]+|\{[^}]*\})\s*from\s*)(['"])([^'"\n]+)\2/g;

/** Rewrite bare import specifiers of an ES module to absolute paths under `prefix`. */
function rewriteImports(code, file, prefix) {
  return code.replace(SPECIFIER, (all, head, q, spec) => {
    if (/^(\.{0,2}\/|[a-z][a-z0-9+.-]*:)/i.test(spec)) return all; // relative, absolute, node:, https:…
    const r = resolveBare(spec, file);
    const to = r.cjs ? `/@cjs${urlPath(r.file)}` : urlPath(r.file);
    return `${head}${q}${prefix}${to}${q}`;
  });
}

/**
 * A CommonJS file and the files it requires (relative requires only) as one ES module whose default
 * export is module.exports. Plain function wrappers: no eval, so it runs under the strict CSP.
 */
function wrapCommonJS(entry) {
  const defs = new Map();
  const visit = (file) => {
    if (defs.has(file)) return;
    const src = readFileSync(file, 'utf8');
    const deps = {};
    defs.set(file, { src, deps });
    for (const [, spec] of src.matchAll(/\brequire\(\s*['"]([^'"]+)['"]\s*\)/g)) {
      if (!spec.startsWith('.')) throw new Error(`${file}: cannot wrap require('${spec}') for the browser`);
      const base = join(dirname(file), spec);
      const dep = [base, base + '.js', join(base, 'index.js')].find((f) => existsSync(f) && extname(f));
      if (!dep) throw new Error(`${file}: cannot find ${spec}`);
      deps[spec] = urlPath(dep);
      visit(dep);
    }
  };
  visit(entry);
  const body = [...defs].map(([file, { src, deps }]) =>
    `[${JSON.stringify(urlPath(file))}, [${JSON.stringify(deps)}, function (module, exports, require) {\n${src}\n}]]`);
  return `// ${urlPath(entry)} (CommonJS) wrapped as an ES module by the demo server
const defs = new Map([
${body.join(',\n')}
]);
const cache = new Map();
function load(id) {
  if (cache.has(id)) return cache.get(id).exports;
  const module = { exports: {} };
  cache.set(id, module);
  const [deps, fn] = defs.get(id);
  fn.call(module.exports, module, module.exports, (spec) => load(deps[spec]));
  return module.exports;
}
export default load(${JSON.stringify(urlPath(entry))});
`;
}

function headersFor(variant, type) {
  const h = { 'content-type': type, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' };
  if (variant.isolated) {
    h['cross-origin-opener-policy'] = 'same-origin';
    h['cross-origin-embedder-policy'] = 'require-corp';
    h['cross-origin-resource-policy'] = 'same-origin';
  }
  if (variant.csp) h['content-security-policy'] = STRICT_CSP;
  return h;
}

async function handle(req, res, root) {
  const url = new URL(req.url, 'http://localhost');
  let path = decodeURIComponent(url.pathname);
  const variant = VARIANTS.find((v) => v.prefix === '' || path === v.prefix || path.startsWith(v.prefix + '/'));
  path = path.slice(variant.prefix.length) || '/';
  const send = (status, type, body) => {
    res.writeHead(status, headersFor(variant, type));
    res.end(req.method === 'HEAD' ? undefined : body);
  };
  if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'text/plain', 'method not allowed\n');
  if (path === '/favicon.ico') return send(204, 'image/x-icon', '');
  if (root === ROOT && (path === '/' || path === '/examples/browser')) {
    res.writeHead(302, { location: `${variant.prefix}/examples/browser/${url.search}` });
    return res.end();
  }
  const cjs = path.startsWith('/@cjs/');
  if (cjs) path = path.slice('/@cjs'.length);
  let file = normalize(join(root, path));
  if (!file.startsWith(root)) return send(403, 'text/plain', 'forbidden\n');
  try {
    if ((await stat(file)).isDirectory()) file = join(file, 'index.html');
    const ext = extname(file);
    const type = TYPES[ext] ?? 'application/octet-stream';
    const own = root === ROOT; // bare specifiers are resolved in this package only (a built app has none)
    if (cjs && own) return send(200, TYPES['.js'], wrapCommonJS(file));
    if (own && (ext === '.js' || ext === '.mjs')) return send(200, type, rewriteImports(await readFile(file, 'utf8'), file, variant.prefix));
    return send(200, type, await readFile(file));
  } catch (e) {
    if (e.code === 'ENOENT' || e.code === 'ENOTDIR') return send(404, 'text/plain', `not found: ${path}\n`);
    return send(500, 'text/plain', `${e.message}\n`);
  }
}

/**
 * Start the server on 127.0.0.1 (port 0: any free port). `root`: the folder served (default: this
 * package). Resolves to { server, origin }.
 */
export function startDemoServer({ port = 8080, host = '127.0.0.1', root = ROOT } = {}) {
  root = normalize(root + sep);
  const server = createServer((req, res) => {
    handle(req, res, root).catch((e) => {
      res.writeHead(500);
      res.end(String(e));
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      const { port: p } = server.address();
      resolve({ server, origin: `http://${host}:${p}` });
    });
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === normalize(process.argv[1])) {
  const i = process.argv.indexOf('--port');
  const port = Number(i > 0 ? process.argv[i + 1] : process.env.PORT ?? 8080);
  if (!existsSync(join(ROOT, 'dist', 'browser.js')) || !existsSync(join(ROOT, 'build', 'kernels.wasm'))) {
    console.error('dist/ or build/ is missing: run `npm run build` first');
    process.exit(1);
  }
  const { origin } = await startDemoServer({ port });
  console.log(`GoogLeNet demo (Ctrl-C to stop):
  ${origin}/examples/browser/          cross-origin isolated: threads through Web Workers
  ${origin}/no-coi/examples/browser/   without COOP/COEP: one thread
  ${origin}/csp/examples/browser/      isolated, under a strict Content-Security-Policy`);
}
