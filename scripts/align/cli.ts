// `npm run align -- …`: the extension's engine from the command line (same templates, chunking
// and engines), for researchers running an Aligner over real chats or AlpacaEval outputs.
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { setMaxListeners } from 'node:events';
import { parseArgs } from 'node:util';
import { AbortError, buildPrompt, correctAnswer, type AlignerEngine } from '../../model/engine';
import { loadNodeEngine, missingFromModelFolder } from '../../model/node-platform';
import { HUB_HOST } from '../../model/presets';
import { RemoteEngineError } from '../../model/remote-engine';
import { isTemplateId, TEMPLATE_IDS, TEMPLATES, type TemplateId } from '../../model/templates';
import { applyTextDelta } from '../../utils/messages';
import { downloadFailure, messageOf, networkReason, UsageError } from './errors';
import { OutputFile } from './output-file';
import { runPool } from './pool';
import { formatDuration, Progress, type ProgressStream } from './progress';
import {
  answerOf,
  checkRecords,
  correctedRecord,
  defaultGenerator,
  describeFormat,
  formatOfName,
  InputError,
  parseRecords,
  questionOf,
  readRecordFile,
  recordLabel,
  type AlignRecord,
  type RecordFormat,
} from './records';
import { matchResumed } from './resume';
import { DEFAULT_RETRY_POLICY, isRetryable, RetryingRemoteEngine, type RetryPolicy } from './retry';

export const DEFAULT_CONCURRENCY = 16;

export const HELP = `Usage: npm run align -- [options]

Correct one answer:
  npm run align -- --model <model> --question <text> --answer <text>
Correct a file of model outputs (AlpacaEval's model_outputs.json, or JSON Lines):
  npm run align -- --model <model> --in model_outputs.json --out corrected.json

Model:
  --model <hub id | folder>   model in transformers.js layout (local engine), or the served model name (--endpoint)
  --endpoint <url>            an OpenAI-compatible server (vLLM, llama.cpp, Ollama, TGI, LiteLLM) instead of a local model
  --api-key <key>             bearer token for --endpoint (or REALIGN_API_KEY)
  --template <id>             ${TEMPLATE_IDS.join(' | ')} (default aligner-v1)
  --aspects <ids>             MetaAligner templates: the objectives to improve, comma-separated
                              (default: the ones the model was trained on)
  --max-new-tokens <n>        default 1024
  --context-length <n>        tokens the model reads at once (default 2048; longer answers are split)
  --host <url>                hub mirror for hub ids (default ${HUB_HOST})
  --dtype <dtype>             fp32 | fp16 | q8 | q4 | q4f16 (default: the model's own choice)

One answer:
  --question <text>           the question
  --answer <text>             the answer to correct (the correction goes to stdout)
  --print-prompt              print the exact prompt and exit

A file of records:
  --in <file>                 a JSON array of records (AlpacaEval's model_outputs.json) or JSON Lines, told
                              apart by content; each record needs "instruction" and "output" ("input", when
                              present, is added to the question). Records are numbered from 0.
  --out <file>                written in the input's format, every field kept: "output" is the correction,
                              "original_output" the answer corrected, "generator" is
                              "<generator>+<aligner>" (e.g. gpt4_turbo+aligner-7b-v1.0). Records that
                              failed are left out. Rewritten atomically as records finish, so a kill leaves
                              a valid file of the records done so far.
  --generator <name>          the "generator" of every written record instead
  --resume                    keep the records --out already holds and correct the rest (matched in order,
                              by "instruction", "input" and "original_output")
  --overwrite                 replace an existing --out
  --fail-fast                 stop at the first record that fails (default: report it and go on; a server that
                              fails 5 records in a row, or --concurrency of them, after retries stops the run)
  --concurrency <n>           requests in flight at once with --endpoint (default ${DEFAULT_CONCURRENCY}); a local
                              model corrects one record at a time
  --retries <n>               tries again after 429, 5xx or a network failure, with exponential backoff and
                              the server's Retry-After (default ${DEFAULT_RETRY_POLICY.retries}); other errors are not retried
  --timeout <seconds>         give up on a request when the server sends nothing for this long (default 120)

Exit status: 0 when every record was corrected (or left unchanged by the model), 1 when any record
failed or was not reached, 2 for a command line that cannot run, 130 when stopped by Ctrl-C or SIGTERM
(what was done is in --out: run again with --resume).
`;

export interface CliIo {
  stdout: ProgressStream;
  stderr: ProgressStream;
  env: Record<string, string | undefined>;
  /** Aborts on Ctrl-C / SIGTERM: the run stops, writes what is done and says so. */
  signal?: AbortSignal;
}

const OPTIONS = {
  model: { type: 'string' },
  endpoint: { type: 'string' },
  'api-key': { type: 'string' },
  template: { type: 'string', default: 'aligner-v1' },
  question: { type: 'string' },
  answer: { type: 'string' },
  'print-prompt': { type: 'boolean', default: false },
  aspects: { type: 'string' },
  in: { type: 'string' },
  out: { type: 'string' },
  generator: { type: 'string' },
  resume: { type: 'boolean', default: false },
  overwrite: { type: 'boolean', default: false },
  'fail-fast': { type: 'boolean', default: false },
  concurrency: { type: 'string' },
  retries: { type: 'string', default: String(DEFAULT_RETRY_POLICY.retries) },
  timeout: { type: 'string', default: '120' },
  'max-new-tokens': { type: 'string', default: '1024' },
  'context-length': { type: 'string', default: '2048' },
  host: { type: 'string' },
  dtype: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const;

const parseStrict = (argv: string[]) => parseArgs({ args: argv, options: OPTIONS, strict: true, allowPositionals: false }).values;
type Values = ReturnType<typeof parseStrict>;

function parse(argv: string[]): Values {
  try {
    return parseStrict(argv);
  } catch (error) {
    // node:util's words ("Unknown option '--x'", "Option '--in <value>' argument missing").
    throw new UsageError(messageOf(error).replace(/\. To specify a positional argument.*$/s, '.'));
  }
}

/** Runs the command; resolves to the exit status. */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  try {
    return await run(argv, io);
  } catch (error) {
    io.stderr.write(`align: ${messageOf(error)}\n`);
    if (error instanceof UsageError) {
      io.stderr.write('Run `npm run align -- --help` for the options.\n');
      return 2;
    }
    return 1;
  }
}

async function run(argv: string[], io: CliIo): Promise<number> {
  const values = parse(argv);
  if (values.help) {
    io.stdout.write(HELP);
    return 0;
  }
  const template = values.template!;
  if (!isTemplateId(template)) throw new UsageError(`Unknown template "${template}". Choose one of: ${TEMPLATE_IDS.join(', ')}.`);
  const maxNewTokens = positive(values['max-new-tokens']!, '--max-new-tokens');
  const contextLength = positive(values['context-length']!, '--context-length');
  const retries = wholeNumber(values.retries!, '--retries');
  const timeoutMs = positive(values.timeout!, '--timeout') * 1000;
  const concurrency = values.concurrency === undefined ? DEFAULT_CONCURRENCY : positive(values.concurrency, '--concurrency');
  if (values.endpoint) {
    let protocol = '';
    try {
      protocol = new URL(values.endpoint).protocol;
    } catch {
      /* said below */
    }
    if (protocol !== 'http:' && protocol !== 'https:') throw new UsageError(`--endpoint ${values.endpoint} is not an http(s) address (e.g. http://localhost:8000).`);
  }

  const aspects = values.aspects?.split(',').map((id) => id.trim()).filter(Boolean);
  if (aspects) {
    const known = TEMPLATES[template].aspects;
    if (!known) throw new UsageError(`--aspects applies to the MetaAligner templates; "${template}" names no objectives.`);
    const unknown = aspects.filter((id) => !known.some((aspect) => aspect.id === id));
    if (unknown.length > 0) throw new UsageError(`Unknown objective ${unknown.join(', ')} for ${template}. Choose from: ${known.map((aspect) => aspect.id).join(', ')}.`);
  }
  if (values['print-prompt']) return printPrompt(values, template, io, aspects);

  if (!values.model) throw new UsageError('--model is required (a hub id or a folder, or the served model name with --endpoint).');
  const batch = values.in !== undefined || values.out !== undefined;
  if (batch) {
    if (values.question !== undefined || values.answer !== undefined) throw new UsageError('Give either --question and --answer, or --in and --out, not both.');
    if (!values.in) throw new UsageError('--out needs --in (the records to correct).');
    if (!values.out) throw new UsageError('--in needs --out (where the corrected records go).');
  } else {
    if (values.answer === undefined) throw new UsageError('Give --question and --answer, or --in and --out.');
    if (values.answer.trim() === '') throw new UsageError('--answer is empty: there is nothing to correct.');
    for (const flag of ['resume', 'overwrite', 'fail-fast'] as const) if (values[flag]) throw new UsageError(`--${flag} applies to --in/--out only.`);
  }
  if (!values.endpoint && values.concurrency !== undefined && concurrency > 1) {
    io.stderr.write('align: note: --concurrency applies to --endpoint; a local model corrects one record at a time.\n');
  }

  const policy: RetryPolicy = { ...DEFAULT_RETRY_POLICY, retries };
  const settings: RunSettings = { template, aspects, maxNewTokens, contextLength, policy, timeoutMs };
  if (!batch) return correctOne(values, settings, io);
  return correctFile(values, settings, values.endpoint ? concurrency : 1, io);
}

interface RunSettings {
  template: TemplateId;
  aspects?: string[];
  maxNewTokens: number;
  contextLength: number;
  policy: RetryPolicy;
  timeoutMs: number;
}

async function printPrompt(values: Values, template: TemplateId, io: CliIo, aspects?: string[]): Promise<number> {
  const question = values.question ?? '';
  const answer = values.answer ?? '';
  if (template !== 'chat') {
    io.stdout.write(`${(buildPrompt(template, question, answer, aspects) as { text: string }).text}\n`);
    return 0;
  }
  if (!values.model || values.endpoint) throw new UsageError("The chat template is the model's own: --print-prompt needs a local --model.");
  const { AutoTokenizer } = await import('@huggingface/transformers');
  await (await loadLocalEngine(values, io)).dispose();
  const tokenizer = await AutoTokenizer.from_pretrained(values.model.split('/').pop()!);
  const prompt = buildPrompt('chat', question, answer) as Extract<ReturnType<typeof buildPrompt>, { kind: 'chat' }>;
  io.stdout.write(`${tokenizer.apply_chat_template(prompt.messages, { add_generation_prompt: true, tokenize: false })}\n`);
  return 0;
}

/** The model folder or hub download, with one message per way it can fail. */
async function loadLocalEngine(values: Values, io: CliIo): Promise<AlignerEngine> {
  const model = values.model!;
  const looksLikeFolder = existsSync(model) || model.startsWith('.') || model.startsWith('/');
  if (looksLikeFolder) {
    const folder = resolve(model);
    if (!existsSync(folder)) throw new UsageError(`There is no model folder ${folder}. --model takes a folder in transformers.js layout or a hub id (owner/name).`);
    if (!statSync(folder).isDirectory()) throw new UsageError(`--model ${model} is a file; it takes a folder in transformers.js layout or a hub id (owner/name).`);
    const missing = missingFromModelFolder(folder);
    if (missing.length > 0) throw new UsageError(`The model folder ${folder} lacks ${missing.join(', ')} (a transformers.js layout folder has them all).`);
  }
  const host = (values.host ?? HUB_HOST).replace(/\/?$/, '/');
  const downloads = new DownloadReport(io.stderr);
  try {
    return await loadNodeEngine({ model, host: values.host, dtype: values.dtype, onProgress: (p) => downloads.update(p.loaded, p.total) });
  } catch (error) {
    const reason = networkReason(error);
    if (reason === null || looksLikeFolder) throw error;
    throw new Error(downloadFailure(model, host, values.host !== undefined, reason));
  } finally {
    downloads.finish();
  }
}

/** Model download progress: redrawn in place on a terminal, a line every few seconds in a log. */
class DownloadReport {
  private shown = false;
  private lastLine = 0;
  constructor(private readonly stream: ProgressStream) {}
  update(loaded: number, total: number): void {
    if (!(total > 0) || loaded >= total) return;
    const text = `downloading ${(loaded / 1e6).toFixed(1)} of ${(total / 1e6).toFixed(1)} MB`;
    if (this.stream.isTTY) {
      this.stream.write(`\r\x1b[2K${text}`);
      this.shown = true;
    } else if (Date.now() - this.lastLine > 5000) {
      this.lastLine = Date.now();
      this.stream.write(`align: ${text}\n`);
    }
  }
  finish(): void {
    if (this.shown) this.stream.write('\r\x1b[2K');
    this.shown = false;
  }
}

function remoteEngine(values: Values, settings: RunSettings, io: CliIo): RetryingRemoteEngine {
  return new RetryingRemoteEngine(
    { endpoint: values.endpoint!, model: values.model!, apiKey: values['api-key'] ?? io.env.REALIGN_API_KEY ?? '', timeoutMs: settings.timeoutMs },
    settings.policy,
  );
}

/**
 * Asks the server for its models before any record: a server that is down or refuses the key is
 * said once, not once per record. A model name missing from the list is only a warning (Ollama
 * and proxies list names their own way); a server without /v1/models is fine.
 */
async function checkServer(engine: RetryingRemoteEngine, model: string, say: (text: string) => void): Promise<void> {
  let served: string[];
  try {
    served = await engine.listModels();
  } catch (error) {
    if (error instanceof RemoteEngineError && error.status !== undefined && error.status !== 401 && error.status !== 403) return;
    throw error;
  }
  if (served.length > 0 && !served.includes(model)) {
    say(`align: warning: ${engine.host} lists ${served.slice(0, 5).join(', ')}${served.length > 5 ? ', …' : ''} but not "${model}"; requests may fail with 404.`);
  }
}

async function correctOne(values: Values, settings: RunSettings, io: CliIo): Promise<number> {
  let engine: AlignerEngine;
  if (values.endpoint) {
    const remote = remoteEngine(values, settings, io);
    remote.onRetry = ({ error, attempt, of, delayMs }) => io.stderr.write(`align: ${messageOf(error)}; retrying in ${(delayMs / 1000).toFixed(1)} s (retry ${attempt} of ${of})\n`);
    await checkServer(remote, values.model!, (text) => io.stderr.write(`${text}\n`));
    engine = remote;
  } else {
    engine = await loadLocalEngine(values, io);
  }
  try {
    let printed = 0;
    let streamed = '';
    const result = await correctAnswer(engine, values.question ?? '', values.answer!, {
      template: settings.template,
      aspects: settings.aspects,
      contextLength: settings.contextLength,
      maxNewTokens: settings.maxNewTokens,
      signal: io.signal,
      onUpdate: (update) => {
        if (update.kind !== 'text') return;
        streamed = applyTextDelta(streamed, update) ?? streamed;
        // Stream what is new; a part's text only grows within the part.
        if (streamed.length > printed) io.stdout.write(streamed.slice(printed));
        printed = Math.max(printed, streamed.length);
      },
    });
    if (result.text.length > printed) io.stdout.write(result.text.slice(printed));
    if (printed > 0 || result.text.length > 0) io.stdout.write('\n');
    for (const note of result.notes) io.stderr.write(`align: note: ${note}\n`);
    if (result.text.trim() === '') {
      io.stderr.write('align: the model returned an empty correction (nothing was generated before a stop string or the end); the answer was not corrected.\n');
      return 1;
    }
    return 0;
  } catch (error) {
    if (error instanceof AbortError) {
      io.stderr.write('align: stopped.\n');
      return 130;
    }
    throw error;
  } finally {
    await engine.dispose();
  }
}

/** The records an existing --out holds, or why it is not a file of records. */
function readPrevious(path: string): { format: RecordFormat; records: AlignRecord[] } | { unreadable: string } {
  try {
    const text = readFileSync(path, 'utf8');
    if (text.trim() === '') return { format: 'jsonl', records: [] };
    return parseRecords(text, path);
  } catch (error) {
    return { unreadable: messageOf(error) };
  }
}

function sameFile(a: string, b: string): boolean {
  const real = (path: string) => (existsSync(path) ? realpathSync(path) : resolve(path));
  return real(a) === real(b);
}

async function correctFile(values: Values, settings: RunSettings, concurrency: number, io: CliIo): Promise<number> {
  const inPath = values.in!;
  const outPath = values.out!;
  if (!existsSync(inPath)) throw new UsageError(`The input file ${inPath} does not exist.`);
  if (sameFile(inPath, outPath)) throw new UsageError('--out must be another file than --in (the input is kept as it is).');
  if (values.resume && values.overwrite) throw new UsageError('--resume keeps what --out holds and --overwrite replaces it: choose one.');

  // Everything about the input is checked before a model loads or a file is written.
  const input = readRecordFile(inPath);
  checkRecords(input, inPath);
  const named = formatOfName(outPath);
  if (named !== null && named !== input.format && named !== formatOfName(inPath)) {
    throw new UsageError(`${inPath} is ${describeFormat(input.format)}, and the output is written in the same format, but --out ${outPath} is named for ${describeFormat(named)}. Use a ${input.format === 'jsonl' ? '.jsonl' : '.json'} name.`);
  }

  const outFolder = dirname(resolve(outPath));
  if (!existsSync(outFolder) || !statSync(outFolder).isDirectory()) throw new UsageError(`The folder of --out, ${outFolder}, does not exist.`);

  const output = new OutputFile(outPath, input.format);
  let kept = new Map<number, AlignRecord>();
  const previous = existsSync(outPath) ? readPrevious(outPath) : null;
  // A file with records is work: it is never replaced without being asked (an empty one is not).
  if (previous !== null && !values.resume && !values.overwrite && ('unreadable' in previous || previous.records.length > 0)) {
    throw new UsageError(`${outPath} already exists: add --resume to keep its records and correct the rest, or --overwrite to start again.`);
  }
  if (previous !== null && values.resume) {
    if ('unreadable' in previous) throw new InputError(`Cannot resume: ${outPath} is not a file of records this command wrote (${previous.unreadable})`);
    if (previous.records.length > 0 && previous.format !== input.format) {
      throw new InputError(`Cannot resume: ${outPath} is ${describeFormat(previous.format)} but ${inPath} is ${describeFormat(input.format)}.`);
    }
    kept = matchResumed(input.records, previous.records, outPath, inPath);
  }
  for (const [index, record] of kept) output.keep(index, record);

  const todo = input.records.map((_, index) => index).filter((index) => !kept.has(index));
  if (kept.size > 0) io.stderr.write(`align: resuming: ${kept.size} of ${input.records.length} records are already in ${outPath}; correcting the other ${todo.length}.\n`);
  if (todo.length === 0) {
    io.stderr.write(`align: nothing to do: all ${input.records.length} records are in ${outPath}.\n`);
    return 0;
  }

  // Engines: one local model, or one remote client per slot (each reads its own Retry-After).
  const slots: AlignerEngine[] = [];
  const progressRef: { current?: Progress } = {};
  const say = (text: string) => (progressRef.current ? progressRef.current.line(text) : io.stderr.write(`${text}\n`));
  if (values.endpoint) {
    const first = remoteEngine(values, settings, io);
    await checkServer(first, values.model!, say);
    slots.push(first);
    for (let slot = 1; slot < concurrency; slot++) slots.push(remoteEngine(values, settings, io));
  } else {
    slots.push(await loadLocalEngine(values, io));
  }
  // The file is written from here on: a model that does not load leaves no empty --out behind.
  output.writeNow();

  const stop = new AbortController();
  // Every request in flight listens to it (Node warns past 10 listeners).
  setMaxListeners(slots.length * 4 + 10, stop.signal);
  const onInterrupt = () => stop.abort();
  io.signal?.addEventListener('abort', onInterrupt);
  if (io.signal?.aborted) stop.abort(); // Ctrl-C while the model loaded
  const generatorOf = (record: AlignRecord) => values.generator ?? defaultGenerator(record, values.model!);
  const progress = new Progress(io.stderr, todo.length, kept.size);
  progressRef.current = progress;
  const counts = { corrected: 0, unchanged: 0, failed: 0, settled: 0, tokens: 0 };
  const failed: number[] = [];
  // A server that is down fails every record after its retries: stop instead of going through them all.
  const serverDownAfter = Math.max(5, slots.length);
  let serverFailuresInARow = 0;
  const started = performance.now();

  try {
    await runPool(
      todo,
      slots.length,
      async (index, slot) => {
        const record = input.records[index]!;
        const label = recordLabel(input, index);
        const engine = slots[slot]!;
        if (engine instanceof RetryingRemoteEngine) {
          engine.onRetry = ({ error, attempt, of, delayMs }) =>
            say(`align: ${label}: ${messageOf(error)}; retrying in ${(delayMs / 1000).toFixed(1)} s (retry ${attempt} of ${of})`);
        }
        const answer = answerOf(record);
        try {
          if (answer.trim() === '') {
            say(`align: ${label}: the answer is empty, nothing to correct; written unchanged.`);
            output.add(index, correctedRecord(record, answer, generatorOf(record)));
            counts.unchanged += 1;
          } else {
            const result = await correctAnswer(engine, questionOf(record), answer, {
              template: settings.template,
              aspects: settings.aspects,
              contextLength: settings.contextLength,
              maxNewTokens: settings.maxNewTokens,
              signal: stop.signal,
            });
            if (result.text.trim() === '') throw new Error('the model returned an empty correction');
            counts.tokens += result.tokens;
            for (const note of result.notes) say(`align: ${label}: note: ${note}`);
            output.add(index, correctedRecord(record, result.text, generatorOf(record)));
            if (result.text === answer) counts.unchanged += 1;
            else counts.corrected += 1;
          }
          serverFailuresInARow = 0;
        } catch (error) {
          if (stop.signal.aborted && error instanceof AbortError) return;
          counts.failed += 1;
          failed.push(index);
          say(`align: ${label} failed: ${messageOf(error)}`);
          serverFailuresInARow = isRetryable(error) ? serverFailuresInARow + 1 : 0;
          if (values['fail-fast']) {
            say('align: stopping (--fail-fast).');
            stop.abort();
          } else if (serverFailuresInARow >= serverDownAfter && !stop.signal.aborted) {
            say(`align: stopping: the last ${serverFailuresInARow} records failed on the server even after retries; when it works again, run again with --resume.`);
            stop.abort();
          }
        }
        counts.settled += 1;
        progress.update({ settled: counts.settled, failed: counts.failed });
      },
      stop.signal,
    );
  } finally {
    io.signal?.removeEventListener('abort', onInterrupt);
    output.flush();
    progress.finish();
    await Promise.all(slots.map((engine) => engine.dispose()));
  }

  const seconds = (performance.now() - started) / 1000;
  const interrupted = io.signal?.aborted ?? false;
  const notReached = todo.length - counts.settled;
  const rate = seconds > 0 ? counts.settled / seconds : 0;
  const parts = [
    `${counts.corrected} corrected`,
    `${counts.unchanged} unchanged`,
    `${counts.failed} failed`,
    ...(notReached > 0 ? [`${notReached} not reached`] : []),
    ...(kept.size > 0 ? [`${kept.size} kept from before`] : []),
    `${counts.tokens} tokens generated`,
    `${formatDuration(seconds)} (${rate.toFixed(rate >= 10 ? 0 : 2)} records/s)`,
  ];
  io.stderr.write(`align: ${interrupted ? 'stopped; ' : ''}wrote ${output.size} of ${input.records.length} records to ${outPath} (${describeFormat(input.format)}): ${parts.join(', ')}.\n`);
  if (failed.length > 0) {
    failed.sort((a, b) => a - b);
    const shown = failed.slice(0, 20).join(', ') + (failed.length > 20 ? `, … (${failed.length - 20} more)` : '');
    io.stderr.write(`align: failed records (left out of ${outPath}): ${shown}. Run again with --resume to retry them.\n`);
  } else if (notReached > 0) {
    io.stderr.write(`align: run again with --resume to correct the ${notReached} records not reached.\n`);
  }
  if (interrupted) return 130;
  return failed.length > 0 || notReached > 0 ? 1 : 0;
}

function positive(value: string, flag: string): number {
  const number = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(number) || number <= 0) throw new UsageError(`${flag} must be a positive whole number (got "${value}").`);
  return number;
}

function wholeNumber(value: string, flag: string): number {
  const number = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(number)) throw new UsageError(`${flag} must be a whole number, 0 or more (got "${value}").`);
  return number;
}
