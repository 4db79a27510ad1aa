// `npm run convert -- --model <hub id | folder> --out <folder> [--dtype …]`: converts a PyTorch
// checkpoint (safetensors or .bin) to a transformers.js model folder with the same converter the
// extension runs, streaming from the hub with range requests or from a local folder.
import { existsSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { convertCheckpoint, ConversionError, DTYPES, hubRepoFiles, isTargetDtype, supportedModelTypes, type CheckpointFiles, type ConversionProgress } from '../model/convert/index';
import { FolderSink, localFolderFiles } from '../model/convert/node';
import { HUB_HOST, isValidRepoId } from '../model/presets';
import { UsageError } from './align/errors';
import { formatDuration } from './align/progress';
import { messageOf } from '../utils/errors';

const HELP = `Usage: npm run convert -- --model <hub id | folder> --out <folder> [options]

Converts a ${supportedModelTypes().join(' / ')} checkpoint (model.safetensors, sharded safetensors,
pytorch_model.bin) into a transformers.js folder: config.json, tokenizer files and one graph in
onnx/. The folder runs with \`npm run align -- --model <folder>\` and can be uploaded to the hub.

  --model <hub id | folder>     the repository to convert (owner/name on the hub, or a local folder)
  --out <folder>                where to write the converted model (must not exist or be empty)
  --dtype <dtype>               ${Object.keys(DTYPES).join(' | ')} (default q4)
  --host <url>                  hub mirror for hub ids (default ${HUB_HOST})
  --revision <rev>              hub revision (default main)
  --tokenizer-from <id|folder>  take tokenizer.json from this repo when --model has none (same vocabulary)
  --overwrite                   replace --out if it already has files
  --max-chunk-mb <n>            largest external data file in MB (default 1900)
  --accuracy-level <0-4>        q4/q8 MatMulNBits accuracy_level: 0 no hint, exact float compute (default);
                                1 fp32, 2 fp16, 3 bf16 compute; 4 int8 activations, much faster on
                                onnxruntime-node's CPU (npm run align)
`;

const ACCURACY_LEVELS = [0, 1, 2, 3, 4] as const;

function filesFor(model: string, host: string, revision: string | undefined): CheckpointFiles {
  const looksLikeFolder = existsSync(model) || model.startsWith('.') || model.startsWith('/');
  if (looksLikeFolder) {
    if (!existsSync(model)) throw new UsageError(`The folder ${model} does not exist.`);
    return localFolderFiles(model);
  }
  if (!isValidRepoId(model)) throw new UsageError(`"${model}" is neither a folder nor a hub repo id (owner/name).`);
  return hubRepoFiles({ host, repo: model, revision });
}

const mb = (bytes: number) => (bytes / 1e6).toFixed(1);
const formatTime = (ms: number) => formatDuration(ms / 1000);

/** True when `folder` is `inner` or holds it: replacing it would delete `inner`. */
const holds = (folder: string, inner: string) => !relative(resolve(folder), resolve(inner)).startsWith('..');

/** --overwrite deletes --out first: never when that would take the input or the current folder with it. */
function checkOverwrite(out: string, inputs: string[]): void {
  for (const input of [...inputs.filter((path) => existsSync(path)), process.cwd()]) {
    if (holds(out, input)) throw new UsageError(`--out ${out} holds ${resolve(input)}, which --overwrite would delete: choose another output folder.`);
  }
}

async function main() {
  let values;
  try {
    ({ values } = parseArgs({
      options: {
        model: { type: 'string' },
        out: { type: 'string' },
        dtype: { type: 'string', default: 'q4' },
        host: { type: 'string', default: HUB_HOST },
        revision: { type: 'string' },
        'tokenizer-from': { type: 'string' },
        overwrite: { type: 'boolean', default: false },
        'max-chunk-mb': { type: 'string' },
        'accuracy-level': { type: 'string', default: '0' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    }));
  } catch (error) {
    throw new UsageError(messageOf(error));
  }
  if (values.help) return void process.stdout.write(HELP);
  if (!values.model) throw new UsageError('--model is required (a hub id or a folder).');
  if (!values.out) throw new UsageError('--out is required (the folder to write).');
  const dtype = values.dtype!;
  if (!isTargetDtype(dtype)) throw new UsageError(`Unknown dtype "${dtype}". Choose one of: ${Object.keys(DTYPES).join(', ')}.`);
  let maxChunkBytes: number | undefined;
  if (values['max-chunk-mb'] !== undefined) {
    const value = Number(values['max-chunk-mb']);
    if (!Number.isFinite(value) || value <= 0 || value > 2000) throw new UsageError('--max-chunk-mb must be a number of MB between 0 and 2000.');
    maxChunkBytes = Math.round(value * 1e6);
  }
  const accuracyLevel = ACCURACY_LEVELS.find((level) => String(level) === values['accuracy-level'].trim());
  if (accuracyLevel === undefined) throw new UsageError('--accuracy-level must be 0, 1, 2, 3 or 4.');
  const files = filesFor(values.model, values.host!, values.revision);
  const tokenizerFrom = values['tokenizer-from'] ? filesFor(values['tokenizer-from'], values.host!, undefined) : undefined;
  if (values.overwrite) checkOverwrite(values.out, [values.model, values['tokenizer-from'] ?? ''].filter(Boolean));
  let sink: FolderSink;
  try {
    sink = new FolderSink(values.out, { overwrite: values.overwrite });
  } catch (error) {
    throw new UsageError(messageOf(error));
  }

  const controller = new AbortController();
  process.once('SIGINT', () => {
    process.stderr.write('\ncancelling…\n');
    controller.abort();
  });
  const onProgress = (p: ConversionProgress) => {
    if (p.phase === 'reading-index') return void process.stderr.write(`reading ${files.description}…\n`);
    if (p.phase !== 'converting') return;
    const eta = p.etaMs === null ? '' : `, ${formatTime(p.etaMs)} left`;
    process.stderr.write(`\r${mb(p.bytesRead)} of ${mb(p.bytesTotal)} MB read, ${p.tensorsDone}/${p.tensorsTotal} tensors${eta}   `);
  };
  const result = await convertCheckpoint({ files, sink, dtype, tokenizerFrom, signal: controller.signal, onProgress, maxChunkBytes, sourceLabel: values.model, accuracyLevel });
  process.stderr.write('\n');
  for (const note of result.notes) process.stderr.write(`note: ${note}\n`);
  const total = result.files.reduce((sum, f) => sum + f.size, 0);
  process.stderr.write(
    `converted ${result.architecture} (${result.decoder.layers} layers, vocabulary ${result.decoder.vocabRows}) to ${dtype} in ${formatTime(result.elapsedMs)}: ` +
      `${mb(result.bytesRead)} MB read, ${mb(total)} MB written to ${values.out}\n`,
  );
  for (const file of result.files) process.stdout.write(`${file.path}\t${file.size}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`\nconvert: ${messageOf(error)}\n`);
  if (error instanceof UsageError) process.stderr.write('Run `npm run convert -- --help` for the options.\n');
  process.exitCode = error instanceof UsageError ? 2 : error instanceof ConversionError && error.code === 'aborted' ? 130 : 1;
});
