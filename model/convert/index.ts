// The checkpoint → ONNX converter's public API (browser-safe: no Node imports here; Node's file
// sources and folder sink are in ./node).
export { convertCheckpoint, inspectCheckpoint, DEFAULT_MAX_CHUNK_BYTES, CONVERTER_VERSION } from './convert';
export type { ConvertOptions, ConversionProgress, ConversionResult, CheckpointSummary } from './convert';
export { ConversionError, type ConversionErrorCode } from './errors';
export { DTYPES, isTargetDtype, type TargetDtype } from './graph';
export { hubRepoFiles, HttpByteSource, type ByteSource, type CheckpointFiles, type FetchLike, type HubRepoOptions } from './sources';
export { CacheStorageSink, type OutputSink, type SinkFile } from './sinks';
export { supportedModelTypes } from './architectures';
