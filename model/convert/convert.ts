import { resolveDecoder, type DecoderSpec } from './architectures';
import { openCheckpoint, type Checkpoint } from './checkpoint';
import { ConversionError, throwIfAborted } from './errors';
import { buildDecoderGraph, DTYPES, type DecoderGraph, type GraphOptions, type TargetDtype } from './graph';
import { encodeModel, type ExternalLocation, type TensorSpec } from './onnx-proto';
import { writeWholeFile, storageError, type OutputSink } from './sinks';
import type { CheckpointFiles } from './sources';
import { isFloatDtype } from './tensors';
import { resolveTokenizer } from './tokenizer';

export const CONVERTER_VERSION = 1;

/** Chunks of external data stay under 2 GB (browsers' ArrayBuffer and protobuf limits). */
export const DEFAULT_MAX_CHUNK_BYTES = 1_900_000_000;
const ALIGNMENT = 64;

export interface ConversionProgress {
  phase: 'reading-index' | 'converting' | 'done';
  /** Checkpoint bytes downloaded or read so far, of the total the conversion needs. */
  bytesRead: number;
  bytesTotal: number;
  tensorsDone: number;
  tensorsTotal: number;
  bytesWritten: number;
  elapsedMs: number;
  /** Estimated time left from the read rate so far; null until there is a rate. */
  etaMs: number | null;
  currentTensor: string | null;
}

export interface ConvertOptions {
  /** The model repository (hubRepoFiles, or localFolderFiles in Node). */
  files: CheckpointFiles;
  /** Where the converted folder goes (FolderSink in Node, CacheStorageSink in a browser). */
  sink: OutputSink;
  dtype: TargetDtype;
  /** A repository with the identical vocabulary, used when `files` has no tokenizer.json. */
  tokenizerFrom?: CheckpointFiles;
  signal?: AbortSignal;
  onProgress?: (progress: ConversionProgress) => void;
  /** Largest external data file (default 1.9 GB). */
  maxChunkBytes?: number;
  /** Recorded in config.json (`realign_conversion.source`), e.g. the hub id. */
  sourceLabel?: string;
  /** MatMulNBits accuracy_level for q4/q8 (see GraphOptions); default 0, exact float compute. */
  accuracyLevel?: GraphOptions['accuracyLevel'];
}

export interface ConversionResult {
  dtype: TargetDtype;
  architecture: string;
  /** Files written, relative to the output folder, with their sizes. */
  files: Array<{ path: string; size: number }>;
  /** Checkpoint bytes read. */
  bytesRead: number;
  elapsedMs: number;
  notes: string[];
  decoder: Omit<DecoderSpec, 'names' | 'notes'>;
}

export interface CheckpointSummary {
  architecture: string;
  format: Checkpoint['format'];
  weightFiles: Checkpoint['weightFiles'];
  /** Bytes the conversion downloads (the tensors it uses; a .bin's unused buffers are skipped). */
  downloadBytes: number;
  parameters: number;
  /** What each dtype's output takes on disk. */
  outputBytes: Record<TargetDtype, number>;
  hasTokenizer: boolean;
  notes: string[];
  decoder: Omit<DecoderSpec, 'names' | 'notes'>;
}

function publicSpec(spec: DecoderSpec): Omit<DecoderSpec, 'names' | 'notes'> {
  const { names: _names, notes: _notes, ...rest } = spec;
  return rest;
}

function sourcesOf(graph: DecoderGraph): string[] {
  return [...new Set(graph.tasks.map((task) => task.source).filter((s): s is string => s !== null))];
}

/**
 * What converting a repository involves, without downloading weights: its architecture, the
 * bytes it will download and the disk each dtype needs (for a consent prompt).
 */
export async function inspectCheckpoint(files: CheckpointFiles, signal?: AbortSignal): Promise<CheckpointSummary> {
  const checkpoint = await openCheckpoint(files, signal);
  await checkpoint.close(); // only the index is needed
  const spec = resolveDecoder(checkpoint.config, checkpoint.tensors);
  const outputBytes = {} as Record<TargetDtype, number>;
  for (const dtype of Object.keys(DTYPES) as TargetDtype[]) {
    const graph = buildDecoderGraph(spec, dtype);
    outputBytes[dtype] = graph.tasks.reduce((sum, task) => sum + task.outputs.reduce((s, o) => s + o.byteLength, 0), 0);
  }
  const graph = buildDecoderGraph(spec, 'fp32');
  const used = sourcesOf(graph).map((name) => checkpoint.tensors.get(name)!);
  return {
    architecture: spec.modelType,
    format: checkpoint.format,
    weightFiles: checkpoint.weightFiles,
    downloadBytes: used.reduce((sum, t) => sum + t.byteLength, 0),
    parameters: used.reduce((sum, t) => sum + t.shape.reduce((a, b) => a * b, 1), 0),
    outputBytes,
    hasTokenizer: (await files.readText('tokenizer.json', signal)) !== null,
    notes: spec.notes,
    decoder: publicSpec(spec),
  };
}

/** Assigns each initializer a place in the external data files, in the order tasks run. */
function layoutWeights(graph: DecoderGraph, baseName: string, maxChunkBytes: number) {
  const locations = new Map<string, ExternalLocation>();
  const files: Array<{ path: string; size: number }> = [];
  let file = -1;
  let offset = 0;
  const fileName = (index: number) => `${baseName}_data${index === 0 ? '' : `_${index}`}`;
  for (const task of graph.tasks) {
    for (const out of task.outputs) {
      const start = Math.ceil(offset / ALIGNMENT) * ALIGNMENT;
      if (file < 0 || (start + out.byteLength > maxChunkBytes && offset > 0)) {
        if (file >= 0) files[file]!.size = offset;
        file += 1;
        files.push({ path: fileName(file), size: 0 });
        offset = 0;
      } else {
        offset = start;
      }
      if (out.byteLength > maxChunkBytes) {
        throw new ConversionError('unsupported', `The tensor ${out.name} (${out.byteLength} bytes) is larger than one external data file may be (${maxChunkBytes}).`);
      }
      locations.set(out.name, { file: files[file]!.path, offset, length: out.byteLength });
      offset += out.byteLength;
    }
  }
  if (file >= 0) files[file]!.size = offset;
  for (const alias of graph.aliases) locations.set(alias.name, locations.get(alias.of)!);
  return { locations, files };
}

/** config.json for transformers.js: the source's, with the converted dtype and data files. */
function convertedConfig(config: Record<string, unknown>, spec: DecoderSpec, dtype: TargetDtype, modelFile: string, chunks: number, sourceLabel: string) {
  const out: Record<string, unknown> = { ...config, vocab_size: spec.vocabRows, use_cache: true };
  delete out['transformers.js_config'];
  out['transformers.js_config'] = {
    dtype,
    use_external_data_format: { [modelFile]: chunks },
  };
  out.realign_conversion = { source: sourceLabel, dtype, converter_version: CONVERTER_VERSION };
  return out;
}

/**
 * Converts a checkpoint to a transformers.js model folder: `config.json`, `generation_config.json`,
 * `tokenizer.json`, `tokenizer_config.json` and one graph `onnx/model{suffix}.onnx` with its
 * weights in `onnx/model{suffix}.onnx_data[_N]`. Weights stream one tensor at a time from the
 * source to the sink, so memory stays near the largest tensor and its converted form.
 */
export async function convertCheckpoint(options: ConvertOptions): Promise<ConversionResult> {
  const started = Date.now();
  const { files, signal, dtype } = options;
  if (!DTYPES[dtype]) throw new ConversionError('bad-input', `Unknown dtype "${dtype}". Choose one of: ${Object.keys(DTYPES).join(', ')}.`);
  const progress: ConversionProgress = {
    phase: 'reading-index',
    bytesRead: 0,
    bytesTotal: 0,
    tensorsDone: 0,
    tensorsTotal: 0,
    bytesWritten: 0,
    elapsedMs: 0,
    etaMs: null,
    currentTensor: null,
  };
  let lastReport = 0;
  const report = (force = false) => {
    const now = Date.now();
    if (!force && now - lastReport < 200) return;
    lastReport = now;
    progress.elapsedMs = now - started;
    const rate = progress.bytesRead / Math.max(1, progress.elapsedMs);
    progress.etaMs = progress.phase === 'converting' && progress.bytesRead > 0 ? Math.round((progress.bytesTotal - progress.bytesRead) / rate) : progress.phase === 'done' ? 0 : null;
    options.onProgress?.({ ...progress });
  };
  report(true);

  const checkpoint = await openCheckpoint(files, signal);
  try {
    return await convertOpened(options, checkpoint, progress, report, started);
  } finally {
    await checkpoint.close();
  }
}

async function convertOpened(
  options: ConvertOptions,
  checkpoint: Checkpoint,
  progress: ConversionProgress,
  report: (force?: boolean) => void,
  started: number,
): Promise<ConversionResult> {
  const { files, sink, signal, dtype } = options;
  const dtypeSpec = DTYPES[dtype];
  const spec = resolveDecoder(checkpoint.config, checkpoint.tensors);
  const tokenizer = await resolveTokenizer({
    model: files,
    fallback: options.tokenizerFrom,
    modelType: spec.modelType,
    embeddingRows: spec.vocabRows,
    config: checkpoint.config,
    signal,
  });
  const graph = buildDecoderGraph(spec, dtype, { accuracyLevel: options.accuracyLevel });
  const sources = sourcesOf(graph);
  for (const name of sources) {
    const tensor = checkpoint.tensors.get(name)!;
    if (!isFloatDtype(tensor.dtype)) throw new ConversionError('bad-input', `${name} is stored as ${tensor.dtype}, not as floats: is this checkpoint already quantized?`);
  }
  progress.bytesTotal = sources.reduce((sum, name) => sum + checkpoint.tensors.get(name)!.byteLength, 0);
  progress.tensorsTotal = graph.tasks.length;
  // Tasks run in graph order, whatever the checkpoint's file order: a model converts to the same
  // bytes from safetensors, sharded safetensors or .bin (range reads need no sequential order).
  const modelFile = `model${dtypeSpec.suffix}.onnx`;
  const layout = layoutWeights(graph, modelFile, options.maxChunkBytes ?? DEFAULT_MAX_CHUNK_BYTES);
  const initializers: TensorSpec[] = [
    ...graph.constants,
    ...graph.tasks.flatMap((task) => task.outputs.map((o) => ({ name: o.name, dataType: o.dataType, dims: o.dims, external: layout.locations.get(o.name)! }))),
    ...graph.aliases.map((a) => ({ name: a.name, dataType: a.dataType, dims: a.dims, external: layout.locations.get(a.name)! })),
  ];
  const sourceLabel = options.sourceLabel ?? files.description;
  const modelBytes = encodeModel({
    irVersion: 8,
    opsets: graph.opsets,
    producerName: 'realign-converter',
    producerVersion: String(CONVERTER_VERSION),
    graph: { name: `${spec.modelType}-decoder`, nodes: graph.nodes, initializers, inputs: graph.inputs, outputs: graph.outputs },
    metadata: { source: sourceLabel, dtype },
  });

  const written: ConversionResult['files'] = [];
  const write = async (path: string, data: Uint8Array | string) => {
    try {
      await writeWholeFile(sink, path, data);
    } catch (error) {
      throw storageError(error, 'the output');
    }
    written.push({ path, size: typeof data === 'string' ? new TextEncoder().encode(data).length : data.length });
  };

  try {
    const generation = (await files.readText('generation_config.json', signal)) ?? defaultGenerationConfig(checkpoint.config);
    await write('tokenizer.json', tokenizer.files['tokenizer.json']);
    await write('tokenizer_config.json', tokenizer.files['tokenizer_config.json']);
    await write('generation_config.json', generation);
    await write(`onnx/${modelFile}`, modelBytes);

    progress.phase = 'converting';
    let dataIndex = -1;
    let dataFile: Awaited<ReturnType<OutputSink['openFile']>> | null = null;
    let offset = 0;
    const closeData = async () => {
      if (!dataFile) return;
      await dataFile.close();
      written.push({ path: `onnx/${layout.files[dataIndex]!.path}`, size: offset });
      dataFile = null;
    };
    for (const task of graph.tasks) {
      throwIfAborted(signal);
      progress.currentTensor = task.source ?? task.outputs[0]!.name;
      report();
      let raw: Uint8Array | null = null;
      let sourceDtype = null;
      if (task.source) {
        const tensor = checkpoint.tensors.get(task.source)!;
        raw = await tensor.read({
          signal,
          onBytes: (bytes) => {
            progress.bytesRead += bytes;
            report();
          },
        });
        sourceDtype = tensor.dtype;
      }
      const outputs = task.produce(raw, sourceDtype);
      raw = null;
      for (let i = 0; i < task.outputs.length; i++) {
        const planned = task.outputs[i]!;
        const bytes = outputs[i]!;
        if (bytes.length !== planned.byteLength) throw new Error(`internal: ${planned.name} produced ${bytes.length} bytes, planned ${planned.byteLength}`);
        const location = layout.locations.get(planned.name)!;
        const fileIndex = layout.files.findIndex((f) => f.path === location.file);
        try {
          if (fileIndex !== dataIndex) {
            await closeData();
            dataIndex = fileIndex;
            dataFile = await sink.openFile(`onnx/${location.file}`);
            offset = 0;
          }
          if (location.offset > offset) await dataFile!.write(new Uint8Array(location.offset - offset));
          await dataFile!.write(bytes);
        } catch (error) {
          throw storageError(error, 'the output');
        }
        offset = location.offset + bytes.length;
        progress.bytesWritten += bytes.length;
      }
      progress.tensorsDone += 1;
      report(true);
    }
    try {
      await closeData();
    } catch (error) {
      throw storageError(error, 'the output');
    }
    throwIfAborted(signal);
    // config.json last: a folder (or cache) without it is an unfinished conversion.
    const config = convertedConfig(checkpoint.config, spec, dtype, modelFile, layout.files.length, sourceLabel);
    await write('config.json', `${JSON.stringify(config, null, 2)}\n`);
    await sink.commit();
  } catch (error) {
    await sink.abort().catch(() => {});
    throw error;
  }
  progress.phase = 'done';
  progress.currentTensor = null;
  report(true);
  return {
    dtype,
    architecture: spec.modelType,
    files: written,
    bytesRead: progress.bytesRead,
    elapsedMs: Date.now() - started,
    notes: [...spec.notes, ...tokenizer.notes],
    decoder: publicSpec(spec),
  };
}

function defaultGenerationConfig(config: Record<string, unknown>): string {
  const pick = (key: string) => (config[key] === undefined ? {} : { [key]: config[key] });
  return `${JSON.stringify({ ...pick('bos_token_id'), ...pick('eos_token_id'), ...pick('pad_token_id'), do_sample: false }, null, 2)}\n`;
}
