import { ConversionError } from './errors';
import { readSafetensorsIndex } from './safetensors';
import type { ByteSource, CheckpointFiles } from './sources';
import type { TensorEntry } from './tensors';
import { readTorchCheckpointIndex } from './torch-checkpoint';

export type CheckpointFormat = 'safetensors' | 'safetensors-sharded' | 'pytorch-bin' | 'pytorch-bin-sharded';

export interface Checkpoint {
  /** The repo's config.json. */
  config: Record<string, unknown>;
  format: CheckpointFormat;
  /** Weight files and their sizes in bytes. */
  weightFiles: Array<{ name: string; size: number }>;
  tensors: Map<string, TensorEntry>;
  /** Releases open files (Node file handles). */
  close(): Promise<void>;
}

const WEIGHT_LAYOUTS: Array<{ format: CheckpointFormat; index?: string; single?: string }> = [
  { format: 'safetensors-sharded', index: 'model.safetensors.index.json' },
  { format: 'safetensors', single: 'model.safetensors' },
  { format: 'pytorch-bin-sharded', index: 'pytorch_model.bin.index.json' },
  { format: 'pytorch-bin', single: 'pytorch_model.bin' },
];

async function closeAll(sources: ByteSource[]): Promise<void> {
  await Promise.all(sources.map((source) => source.close?.().catch(() => {})));
}

export async function readConfig(files: CheckpointFiles, signal?: AbortSignal): Promise<Record<string, unknown>> {
  const text = await files.readText('config.json', signal);
  if (text === null) throw new ConversionError('missing-file', `${files.description} has no config.json: it is not a transformers model repository.`);
  try {
    const config = JSON.parse(text);
    if (!config || typeof config !== 'object' || Array.isArray(config)) throw new Error('not an object');
    return config;
  } catch {
    throw new ConversionError('bad-input', `The config.json of ${files.description} is not valid JSON.`);
  }
}

/**
 * Finds a repo's weights (safetensors first, single or sharded with the index, then PyTorch .bin)
 * and reads their tensor index: headers, zip directories and pickles only, never the weights.
 */
export async function openCheckpoint(files: CheckpointFiles, signal?: AbortSignal): Promise<Checkpoint> {
  const config = await readConfig(files, signal);
  const quantization = config.quantization_config as { quant_method?: string } | undefined;
  if (quantization) {
    throw new ConversionError(
      'unsupported',
      `${files.description} is already quantized (${quantization.quant_method ?? 'quantization_config'}); convert the full-precision repository instead.`,
    );
  }
  for (const layout of WEIGHT_LAYOUTS) {
    let shardNames: string[];
    if (layout.index) {
      const text = await files.readText(layout.index, signal);
      if (text === null) continue;
      let weightMap: Record<string, string>;
      try {
        weightMap = JSON.parse(text).weight_map;
        if (!weightMap || typeof weightMap !== 'object') throw new Error('no weight_map');
      } catch {
        throw new ConversionError('bad-input', `${layout.index} of ${files.description} is not a valid index (no weight_map).`);
      }
      shardNames = [...new Set(Object.values(weightMap))];
      if (shardNames.some((name) => typeof name !== 'string' || name.includes('..') || name.startsWith('/'))) {
        throw new ConversionError('bad-input', `${layout.index} of ${files.description} names shard files outside the repository.`);
      }
    } else {
      shardNames = [layout.single!];
    }
    const sources: ByteSource[] = [];
    for (const name of shardNames) {
      const source = await files.open(name, signal);
      if (!source) {
        if (layout.single) break; // not this layout
        throw new ConversionError('missing-file', `${files.description} lists ${name} in ${layout.index}, but the file is missing.`);
      }
      sources.push(source);
    }
    if (sources.length === 0) continue;

    const tensors = new Map<string, TensorEntry>();
    const weightFiles: Checkpoint['weightFiles'] = [];
    try {
      for (const source of sources) {
        const entries = layout.format.startsWith('safetensors') ? await readSafetensorsIndex(source, signal) : await readTorchCheckpointIndex(source, signal);
        for (const entry of entries) {
          if (tensors.has(entry.name)) throw new ConversionError('bad-input', `${files.description}: tensor ${entry.name} appears in two shards.`);
          tensors.set(entry.name, entry);
        }
        weightFiles.push({ name: source.name, size: await source.size() });
      }
    } catch (error) {
      await closeAll(sources);
      throw error;
    }
    return { config, format: layout.format, weightFiles, tensors, close: () => closeAll(sources) };
  }
  throw new ConversionError(
    'missing-file',
    `${files.description} has no weights the converter reads: looked for model.safetensors, model.safetensors.index.json, pytorch_model.bin and pytorch_model.bin.index.json.`,
  );
}
