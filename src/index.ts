export { loadModel, Model, type LoadOptions, type ModelInfo, type RunOptions, type TensorData } from './model.js';
export { GoogLeNetError, InputError, WeightsError, ImageDecodeError, RuntimeError } from './errors.js';
export { parseSafetensors, encodeSafetensors, type Tensor } from './safetensors.js';
export { buildNetwork, accounting, endpointNames, ENDPOINTS, type ModelName, type NetworkOptions } from './topology.js';
export { weightSpec } from './weights.js';
