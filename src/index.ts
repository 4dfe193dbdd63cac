export { Model, type LoadOptions, type ModelInfo, type RunOptions, type TensorData, type TensorInput } from './model.js';
export { loadModel } from './platform.js';
export { GoogLeNetError, InputError, WeightsError, ImageDecodeError, RuntimeError, type GoogLeNetErrorCode } from './errors.js';
export { parseSafetensors, encodeSafetensors, type Tensor } from './safetensors.js';
export { buildNetwork, accounting, endpointNames, ENDPOINTS, type ModelName, type NetworkOptions } from './topology.js';
export { weightSpec } from './weights.js';
export { decodeImage, fromPixels, preprocess, DEFAULT_MAX_PIXELS, type RGBImage, type DecodeOptions } from './image.js';
export { parseLabels, imagenetLabels, type ImageInput, type Prediction, type ClassifyOptions, type DecodeLimits, type EmbedOptions } from './classify.js';
