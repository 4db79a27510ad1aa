// `npm run align -- …`: the extension's engine from the command line (same templates, chunking
// and engines), for researchers running an Aligner over real chats or AlpacaEval outputs.
import { createReadStream, createWriteStream, existsSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { buildPrompt, correctAnswer, type AlignerEngine } from '../model/engine';
import { loadNodeEngine } from '../model/node-platform';
import { RemoteEngine } from '../model/remote-engine';
import { applyTextDelta } from '../utils/messages';
import { isTemplateId, TEMPLATE_IDS, type TemplateId } from '../model/templates';

const HELP = `Usage: npm run align -- [options]

  --model <hub id | folder>   model in transformers.js layout (local engine), or the served model name (--endpoint)
  --endpoint <url>            an OpenAI-compatible server (vLLM, llama.cpp, Ollama, TGI) instead of a local model
  --api-key <key>             bearer token for --endpoint (or REALIGN_API_KEY)
  --template <id>             ${TEMPLATE_IDS.join(' | ')} (default aligner-v1)
  --question <text>           the question
  --answer <text>             the answer to correct
  --print-prompt              print the exact prompt and exit
  --in <file.jsonl>           batch: records with "instruction" and "output" (or "original_output"), as AlpacaEval writes
  --out <file.jsonl>          batch output: "output" is the correction, "original_output" keeps the original
  --max-new-tokens <n>        default 1024
  --context-length <n>        tokens the model reads at once (default 2048; longer answers are split)
  --host <url>                hub mirror for hub ids (default https://huggingface.co/)
  --dtype <dtype>             fp32 | fp16 | q8 | q4 | q4f16 (default: the model's own choice)
`;

async function main() {
  const { values } = parseArgs({
    options: {
      model: { type: 'string' },
      endpoint: { type: 'string' },
      'api-key': { type: 'string' },
      template: { type: 'string', default: 'aligner-v1' },
      question: { type: 'string' },
      answer: { type: 'string' },
      'print-prompt': { type: 'boolean', default: false },
      in: { type: 'string' },
      out: { type: 'string' },
      'max-new-tokens': { type: 'string', default: '1024' },
      'context-length': { type: 'string', default: '2048' },
      host: { type: 'string' },
      dtype: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) return void process.stdout.write(HELP);
  const template = values.template!;
  if (!isTemplateId(template)) throw new UsageError(`Unknown template "${template}". Choose one of: ${TEMPLATE_IDS.join(', ')}.`);
  const maxNewTokens = positive(values['max-new-tokens']!, '--max-new-tokens');
  const contextLength = positive(values['context-length']!, '--context-length');

  if (values['print-prompt']) {
    const question = values.question ?? '';
    const answer = values.answer ?? '';
    if (template !== 'chat') return void process.stdout.write(`${(buildPrompt(template, question, answer) as { text: string }).text}\n`);
    if (!values.model || values.endpoint) throw new UsageError('The chat template is the model\'s own: --print-prompt needs a local --model.');
    const { AutoTokenizer } = await import('@huggingface/transformers');
    await loadNodeEngine({ model: values.model, host: values.host }).then((engine) => engine.dispose());
    const tokenizer = await AutoTokenizer.from_pretrained(values.model.split('/').pop()!);
    const prompt = buildPrompt('chat', question, answer);
    return void process.stdout.write(`${tokenizer.apply_chat_template((prompt as Extract<typeof prompt, { kind: 'chat' }>).messages, { add_generation_prompt: true, tokenize: false })}\n`);
  }

  if (!values.model) throw new UsageError('--model is required (a hub id or a folder, or the served model name with --endpoint).');
  if (values.in && !values.out) throw new UsageError('--in needs --out.');
  if (values.in && !existsSync(values.in)) throw new UsageError(`The input file ${values.in} does not exist.`);
  if (!values.in && values.answer === undefined) throw new UsageError('Give --question and --answer, or --in and --out.');

  const engine: AlignerEngine = values.endpoint
    ? new RemoteEngine({ endpoint: values.endpoint, model: values.model, apiKey: values['api-key'] ?? process.env.REALIGN_API_KEY ?? '', timeoutMs: 60_000 })
    : await loadNodeEngine({
        model: values.model,
        host: values.host,
        dtype: values.dtype,
        onProgress: (p) => {
          if (p.total > 0 && p.loaded < p.total) process.stderr.write(`\rdownloading ${(p.loaded / 1e6).toFixed(1)} of ${(p.total / 1e6).toFixed(1)} MB`);
        },
      });
  const correct = (question: string, answer: string, onText?: (text: string) => void) => {
    let streamed = '';
    return correctAnswer(engine, question, answer, {
      template: template as TemplateId,
      contextLength,
      maxNewTokens,
      onUpdate: (update) => {
        if (update.kind !== 'text') return;
        streamed = applyTextDelta(streamed, update) ?? streamed;
        onText?.(streamed);
      },
    });
  };

  try {
    if (!values.in) {
      let printed = 0;
      const result = await correct(values.question ?? '', values.answer!, (text) => {
        // Stream what is new; a part's text only grows within the part.
        if (text.length > printed) process.stdout.write(text.slice(printed));
        printed = Math.max(printed, text.length);
      });
      if (result.text.length > printed) process.stdout.write(result.text.slice(printed));
      process.stdout.write('\n');
      for (const note of result.notes) process.stderr.write(`note: ${note}\n`);
      return;
    }
    const out = createWriteStream(values.out!);
    let count = 0;
    for await (const line of createInterface({ input: createReadStream(values.in) })) {
      if (!line.trim()) continue;
      const record = JSON.parse(line) as Record<string, unknown>;
      const original = String(record.original_output ?? record.output ?? '');
      const question = [record.instruction, record.input].filter((part) => typeof part === 'string' && part).join('\n\n');
      const result = await correct(question, original);
      out.write(`${JSON.stringify({ ...record, output: result.text, original_output: original })}\n`);
      count += 1;
      process.stderr.write(`\rcorrected ${count}`);
    }
    await new Promise<void>((done) => out.end(done));
    process.stderr.write(`\nwrote ${count} records to ${values.out}\n`);
  } finally {
    await engine.dispose();
  }
}

class UsageError extends Error {}

function positive(value: string, flag: string): number {
  const number = Number(value);
  if (!Number.isInteger(number) || number <= 0) throw new UsageError(`${flag} must be a positive whole number.`);
  return number;
}

main().catch((error: unknown) => {
  process.stderr.write(`align: ${error instanceof Error ? error.message : String(error)}\n`);
  if (error instanceof UsageError) process.stderr.write('Run `npm run align -- --help` for the options.\n');
  process.exitCode = error instanceof UsageError ? 2 : 1;
});
