// Builds the kernel module (assembly/index.ts) with asc, one run per target of asconfig.json:
//   simd            plain SIMD128, non-shared imported memory (single thread, edge runtimes)
//   simd-shared     plain SIMD128, shared imported memory (worker threads)
//   relaxed         relaxed SIMD (f32x4.relaxed_madd), non-shared
//   relaxed-shared  relaxed SIMD, shared
// Same sources; `ASC_FEATURE_RELAXED_SIMD` selects the fused multiply-add at compile time.
import asc from 'assemblyscript/asc';
import { mkdirSync, readFileSync } from 'node:fs';

mkdirSync('build', { recursive: true });
const { targets } = JSON.parse(readFileSync('asconfig.json', 'utf8'));
for (const target of Object.keys(targets)) {
  const { error, stderr } = await asc.main(['--config', 'asconfig.json', '--target', target]);
  if (error) {
    console.error(stderr.toString());
    console.error(`asc failed for target ${target}: ${error.message}`);
    process.exit(1);
  }
}
console.log(`built ${Object.values(targets).map((t) => t.outFile).join(', ')}`);
