/**
 * mulberry32, the seeded PRNG of the tests and the benchmarks: the package's own (src/bench.ts, built to
 * dist/ before the tests run), so that tests, benchmarks and `googlenet bench` draw the same numbers.
 */
export { mulberry32 } from '../../dist/bench.js';
