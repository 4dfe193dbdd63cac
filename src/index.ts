export { Model, type LoadOptions, type ModelInfo, type RunOptions, type TensorData, type TensorInput } from './model.js';
export { loadModel } from './platform.js';
export { GoogLeNetError, InputError, WeightsError, ImageDecodeError, RuntimeError, type GoogLeNetErrorCode } from './errors.js';
export { parseSafetensors, encodeSafetensors, type Tensor, type ParseOptions, type SafetensorsFile } from './safetensors.js';
export { buildNetwork, accounting, endpointNames, ENDPOINTS, type ModelName, type NetworkOptions, type Network } from './topology.js';
export { weightSpec, type WeightSpec } from './weights.js';
export type { KernelFlavor, WasmMemory, WasmModule, WasmSource } from './wasm.js';
export { decodeImage, fromPixels, preprocess, DEFAULT_MAX_PIXELS, DEFAULT_MAX_DECODE_BYTES, type RGBImage, type DecodeOptions, type PreprocessModel, type PlainFloat32Array, type PlainUint8Array, type PlainRGBImage } from './image.js';
export { parseLabels, imagenetLabels, type ImageInput, type ImagePixels, type DrawableImage, type Prediction, type ClassifyOptions, type DecodeLimits, type EmbedOptions } from './classify.js';
