// The package.json that goes into a tarball (npm pack / npm publish) has no `prepare` script.
// In this repository `prepare` builds the wasm kernels and the TypeScript on `npm install`; a tarball
// already holds dist/ and build/, npm does not run `prepare` when a tarball is installed, and with it in
// the manifest npm 11 still lists googlenet-wasm among the dependencies whose install scripts await
// approval (npm warn install-scripts … prepare: npm run build) in every project that installs it.
//   node scripts/pack-manifest.mjs strip     (prepack: after the build, before npm reads the files)
//   node scripts/pack-manifest.mjs restore   (postpack)
// strip keeps the file as it was in package.json.prepack; restore puts it back byte for byte. A third
// argument names another folder than the repository's (the tests use a copy).
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const dir = process.argv[3] ?? fileURLToPath(new URL('..', import.meta.url));
const manifest = join(dir, 'package.json');
const kept = join(dir, 'package.json.prepack');
const mode = process.argv[2];

if (mode === 'strip') {
  // A pack that failed after strip (npm pack --pack-destination into a missing folder) never ran restore:
  // the kept file is the original, so put it back first.
  if (existsSync(kept)) renameSync(kept, manifest);
  const text = readFileSync(manifest, 'utf8');
  const pkg = JSON.parse(text);
  writeFileSync(kept, text);
  delete pkg.scripts.prepare;
  writeFileSync(manifest, JSON.stringify(pkg, null, 2) + '\n');
} else if (mode === 'restore') {
  if (existsSync(kept)) renameSync(kept, manifest);
} else {
  throw new Error(`usage: node scripts/pack-manifest.mjs strip|restore (got ${mode})`);
}
