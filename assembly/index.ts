// Entry point: every kernel family and its scalar reference.
export { gemm, im2colPacked, conv2d, conv1x1multi, conv2d_ref } from './gemm';
export { maxpool, avgpool, pool_ref } from './pool';
export { lrn, lrn_ref } from './lrn';
export { softmax, softmax_ref } from './softmax';
export { winograd3x3 } from './winograd';
export { winograd4x4, winograd5x5 } from './winograd4';
export { allFinite, allFinite_ref } from './check';
export { winogradWeights, winogradWeights_ref } from './wpack';

/** 1 in the relaxed-SIMD builds, 0 in the plain ones: which build a module is, for model.info.kernels. */
export function relaxedSimd(): i32 {
  return ASC_FEATURE_RELAXED_SIMD ? 1 : 0;
}
