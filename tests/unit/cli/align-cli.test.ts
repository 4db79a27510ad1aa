// `npm run align` as a researcher runs it: the CLI as a child process (exit codes, files on disk,
// stderr), against the loopback OpenAI-compatible server backed by the tiny Aligner, or the tiny
// Aligner loaded by the CLI itself.
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:http';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, test } from 'vitest';
import { loadNodeEngine } from '../../../model/node-platform';
import type { TransformersEngine } from '../../../model/transformers-engine';
import { listenOnLoopback } from '../../support/loopback';
import { startOpenAiServer, type OpenAiServer } from '../../support/openai-server';

const TINY = 'tests/fixtures/models/tiny-aligner';
interface Case {
  question: string;
  answer: string;
  corrected: string;
}
const cases: Case[] = JSON.parse(readFileSync('tests/fixtures/tiny-aligner-cases.json', 'utf8'));

/** AlpacaEval's model_outputs.json records, with the fields it writes. */
const alpacaRecords = (count = cases.length) =>
  cases.slice(0, count).map((entry, index) => ({
    dataset: index % 2 ? 'helpful_base' : 'oasst',
    instruction: entry.question,
    output: entry.answer,
    generator: 'gpt4_turbo',
  }));
/** What each record must become. */
const expectedRecords = (records: Array<Record<string, unknown>>, generator = 'gpt4_turbo+tiny-aligner') =>
  records.map((record) => ({ ...record, output: cases.find((entry) => entry.answer === record.output && entry.question === record.instruction)!.corrected, original_output: record.output, generator }));

interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function startAlign(args: string[]): { child: ChildProcess; done: Promise<Run> } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/align.ts', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (chunk) => (stdout += chunk));
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  const done = new Promise<Run>((resolve) => child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr })));
  return { child, done };
}
const align = (args: string[]) => startAlign(args).done;

let dir: string;
let engine: TransformersEngine;
let server: OpenAiServer;
beforeAll(async () => {
  engine = await loadNodeEngine({ model: TINY });
});
afterAll(async () => {
  await engine?.dispose();
});
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'realign-cli-'));
});
afterEach(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

const write = (name: string, content: string) => {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
};
const json = (path: string) => JSON.parse(readFileSync(path, 'utf8')) as Array<Record<string, unknown>>;
const jsonl = (path: string) =>
  readFileSync(path, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
const remote = () => ['--endpoint', server.url, '--model', 'tiny-aligner'];
/**
 * The input indices of the records a partial output holds, checking that each is exactly its
 * expected correction and that they come in input order (records finish out of order, so a
 * partial file may have gaps).
 */
function doneIndices(partial: Array<Record<string, unknown>>, expected: Array<Record<string, unknown>>): number[] {
  const indices = partial.map((record) => expected.findIndex((entry) => JSON.stringify(entry) === JSON.stringify(record)));
  expect(indices).not.toContain(-1);
  for (let i = 1; i < indices.length; i++) expect(indices[i]!).toBeGreaterThan(indices[i - 1]!);
  return indices;
}

describe('formats', () => {
  test.each([
    ['indented as AlpacaEval writes it', 2],
    ['on one line', undefined],
  ])("AlpacaEval's model_outputs.json (a JSON array, %s) comes back as a JSON array of every record, corrected by the local tiny Aligner", async (_, indent) => {
    const records = alpacaRecords(5);
    const input = write('model_outputs.json', JSON.stringify(records, null, indent));
    const out = join(dir, 'corrected.json');
    const run = await align(['--model', TINY, '--in', input, '--out', out]);
    expect(run.stderr).toContain('wrote 5 of 5 records');
    expect(run.code).toBe(0);
    const written = json(out);
    expect(Array.isArray(written)).toBe(true);
    expect(written).toEqual(expectedRecords(records));
    // Written as AlpacaEval writes it (indent 2), so a diff against the input is readable.
    expect(readFileSync(out, 'utf8')).toBe(`${JSON.stringify(written, null, 2)}\n`);
  });

  test('JSON Lines in, JSON Lines out, through a server', async () => {
    server = await startOpenAiServer({ engine, model: 'tiny-aligner', concurrent: true });
    const records = alpacaRecords(6);
    const input = write('outputs.jsonl', records.map((record) => JSON.stringify(record)).join('\n') + '\n');
    const out = join(dir, 'corrected.jsonl');
    const run = await align([...remote(), '--in', input, '--out', out]);
    expect(run.code).toBe(0);
    const text = readFileSync(out, 'utf8');
    expect(text.trimStart().startsWith('[')).toBe(false);
    expect(text.split('\n').filter(Boolean)).toHaveLength(6);
    expect(jsonl(out)).toEqual(expectedRecords(records));
  });

  test('every field is kept, in its place; "input" joins the question; --generator names the result', async () => {
    server = await startOpenAiServer({ engine, model: 'tiny-aligner', concurrent: true });
    const records = [
      { id: 7, instruction: 'How is the weather?', input: '', output: 'The weather is bad today.', generator: 'm', meta: { tags: ['a', 'ü'], score: 0.5 }, nothing: null },
      { instruction: 'Is it fun?', output: 'It is never fun.', price_per_example: 0.0012, extra: [1, { deep: true }] },
      { instruction: 'What do you think?', input: 'Say it plainly.', output: 'The plan is bad today.', datasplit: 'eval' },
    ];
    const input = write('in.json', JSON.stringify(records));
    const out = join(dir, 'out.json');
    const run = await align([...remote(), '--in', input, '--out', out, '--generator', 'm+aligner']);
    expect(run.code).toBe(0);
    const written = json(out);
    expect(written).toHaveLength(3);
    for (const [index, record] of records.entries()) {
      const { output, generator, original_output, ...rest } = written[index]!;
      expect(rest).toEqual(Object.fromEntries(Object.entries(record).filter(([key]) => key !== 'output' && key !== 'generator')));
      expect(original_output).toBe(record.output);
      expect(generator).toBe('m+aligner');
      expect(typeof output).toBe('string');
      // The input's own keys keep their order; the new ones come after.
      expect(Object.keys(written[index]!).slice(0, Object.keys(record).length)).toEqual(Object.keys(record).map((key) => key));
    }
    expect(written[0]!.output).toBe('The weather is good today.');
    expect(written[1]!.output).toBe('It is always fun.');
    // The question is the instruction, then the input after a blank line (Alpaca's layout).
    expect(server.requests.some((body) => String(body.prompt).includes('What do you think?\n\nSay it plainly. | The plan is bad today.'))).toBe(true);
  });

  test.each([
    ['a single JSON object', '{\n  "0": {"instruction": "q", "output": "a"}\n}', /one JSON object spread over several lines/],
    ['CSV', 'instruction,output\nq,a\n', /neither a JSON array of records .* nor JSON Lines/],
    ['a record without "output"', '[{"instruction": "q", "output": "a"}, {"instruction": "q2"}]', /record 1: no "output" \(the answer to correct\)/],
    ['a broken JSON Lines line', '{"instruction": "q", "output": "a"}\n{"instruction": "q2", "output": \n', /line 2: not a JSON object on one line/],
    ['a record whose instruction is a number', '{"instruction": 3, "output": "a"}\n', /record 0 \(line 1\): "instruction" is a number, not text/],
  ])('refuses %s, naming the file and the record, and writes nothing', async (_, content, message) => {
    const input = write('bad.json', content);
    const out = join(dir, 'out.json');
    const run = await align(['--model', TINY, '--in', input, '--out', out]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).toContain(input);
    expect(existsSync(out)).toBe(false);
  });
});

describe('never losing work', () => {
  test('a run killed mid-way leaves a valid file of the records done; --resume corrects only the rest and ends with the same file as an uninterrupted run', async () => {
    server = await startOpenAiServer({ engine, model: 'tiny-aligner', concurrent: true, delayMs: 600 });
    const records = alpacaRecords(12);
    const input = write('model_outputs.json', JSON.stringify(records, null, 2));
    const out = join(dir, 'corrected.json');
    const { child, done } = startAlign([...remote(), '--in', input, '--out', out, '--concurrency', '2']);
    // Watch the file as a person would, and kill the process (SIGKILL: no handler runs) once a few records are in.
    let seen: Array<Record<string, unknown>> = [];
    while (seen.length < 4) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      if (existsSync(out)) seen = json(out); // every read parses: the file is only ever replaced whole
    }
    child.kill('SIGKILL');
    const killed = await done;
    expect(killed.signal).toBe('SIGKILL');

    const partial = json(out);
    expect(partial.length).toBeGreaterThanOrEqual(4);
    expect(partial.length).toBeLessThan(12);
    const kept = doneIndices(partial, expectedRecords(records));

    const before = server.requests.length;
    const resumed = await align([...remote(), '--in', input, '--out', out, '--concurrency', '2', '--resume']);
    expect(resumed.code).toBe(0);
    expect(resumed.stderr).toContain(`resuming: ${partial.length} of 12 records are already in`);
    expect(json(out)).toEqual(expectedRecords(records));
    // Only the records not in the file were asked for again.
    const asked = server.requests.slice(before).map((body) => String(body.prompt));
    expect(asked).toHaveLength(12 - partial.length);
    for (const index of kept) expect(asked.some((prompt) => prompt.includes(`| ${records[index]!.output} ASSISTANT:`))).toBe(false);
  });

  test('Ctrl-C stops taking records, writes what is done, says so and exits 130', async () => {
    server = await startOpenAiServer({ engine, model: 'tiny-aligner', concurrent: true, delayMs: 300 });
    const records = alpacaRecords(10);
    const input = write('in.json', JSON.stringify(records));
    const out = join(dir, 'out.json');
    const { child, done } = startAlign([...remote(), '--in', input, '--out', out, '--concurrency', '2']);
    while (!existsSync(out) || json(out).length < 2) await new Promise((resolve) => setTimeout(resolve, 20));
    child.kill('SIGINT');
    const run = await done;
    expect(run.code).toBe(130);
    expect(run.stderr).toMatch(/align: stopped; wrote \d+ of 10 records .* not reached/);
    const partial = json(out);
    expect(partial.length).toBeGreaterThanOrEqual(2);
    expect(partial.length).toBeLessThan(10);
    doneIndices(partial, expectedRecords(records));
  });

  test('a server that fails record after record stops the run instead of going through every record', async () => {
    server = await startOpenAiServer({ engine, model: 'tiny-aligner' });
    server.faults.dropNext = 1000;
    const input = write('in.json', JSON.stringify(alpacaRecords(9)));
    const out = join(dir, 'out.json');
    const run = await align([...remote(), '--in', input, '--out', out, '--concurrency', '1', '--retries', '0']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('stopping: the last 5 records failed on the server even after retries');
    expect(run.stderr).toContain('0 corrected, 0 unchanged, 5 failed, 4 not reached');
    expect(server.requests).toHaveLength(5);
    expect(json(out)).toEqual([]);
  });

  test('an existing --out is never replaced by accident; --resume refuses an output written from another input', async () => {
    server = await startOpenAiServer({ engine, model: 'tiny-aligner', concurrent: true });
    const input = write('in.json', JSON.stringify(alpacaRecords(3)));
    const other = write('other.json', JSON.stringify([{ instruction: 'Who?', output: 'Me.', original_output: 'Me.' }]));
    const before = readFileSync(other, 'utf8');
    const [again, wrongResume] = await Promise.all([
      align([...remote(), '--in', input, '--out', other]),
      align([...remote(), '--in', input, '--out', other, '--resume']),
    ]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already exists: add --resume .* or --overwrite/);
    expect(wrongResume.code).toBe(1);
    expect(wrongResume.stderr).toMatch(/Cannot resume: record 0 of .*other\.json does not belong to/);
    expect(readFileSync(other, 'utf8')).toBe(before);
    expect(server.requests).toHaveLength(0);
  });

  test('one record the server refuses is reported with its index, the others are written, the exit status is 1; --resume then fills the gap', async () => {
    server = await startOpenAiServer({ engine, model: 'tiny-aligner', concurrent: true });
    const records = alpacaRecords(6);
    const input = write('in.jsonl', records.map((record) => JSON.stringify(record)).join('\n'));
    const out = join(dir, 'out.jsonl');
    server.faults.rejectPromptsContaining = records[2]!.output;
    const run = await align([...remote(), '--in', input, '--out', out]);
    expect(run.code).toBe(1);
    const failure = run.stderr.split('\n').find((line) => line.includes('failed:'));
    expect(failure).toMatch(/^align: record 2 \(line 3\) failed: 127\.0\.0\.1:\d+ answered 400: This model's maximum context length/);
    expect(run.stderr).toContain('wrote 5 of 6 records');
    expect(run.stderr).toMatch(/\d+ corrected, \d+ unchanged, 1 failed, \d+ tokens generated/);
    expect(run.stderr).toMatch(/failed records \(left out of .*\): 2\. Run again with --resume/);
    // A 400 is not retried: one request for that record.
    expect(server.requests.filter((body) => String(body.prompt).includes(records[2]!.output))).toHaveLength(1);
    const expected = expectedRecords(records);
    expect(jsonl(out)).toEqual([...expected.slice(0, 2), ...expected.slice(3)]);

    server.faults.rejectPromptsContaining = null;
    const resumed = await align([...remote(), '--in', input, '--out', out, '--resume']);
    expect(resumed.code).toBe(0);
    expect(jsonl(out)).toEqual(expected);
  });

  test('--fail-fast stops at the first failure and keeps what was done', async () => {
    server = await startOpenAiServer({ engine, model: 'tiny-aligner' });
    const records = alpacaRecords(6);
    const input = write('in.json', JSON.stringify(records));
    const out = join(dir, 'out.json');
    server.faults.rejectPromptsContaining = records[1]!.output;
    const run = await align([...remote(), '--in', input, '--out', out, '--concurrency', '1', '--fail-fast']);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain('stopping (--fail-fast)');
    expect(run.stderr).toContain('4 not reached');
    expect(json(out)).toEqual(expectedRecords(records).slice(0, 1));
  });
});

describe('server speed and resilience', () => {
  test('a 429 with Retry-After is retried, and the run completes', async () => {
    server = await startOpenAiServer({ engine, model: 'tiny-aligner', concurrent: true });
    server.faults.failNext.push({ status: 429, retryAfter: '1', message: 'Too many requests' });
    server.faults.failNext.push({ status: 503, retryAfter: '0', message: 'Service unavailable' });
    const records = alpacaRecords(3);
    const input = write('in.json', JSON.stringify(records));
    const out = join(dir, 'out.json');
    const run = await align([...remote(), '--in', input, '--out', out, '--concurrency', '1']);
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/record 0: .* answered 429: Too many requests; retrying in 1\.\d s \(retry 1 of 5\)/);
    expect(run.stderr).toMatch(/record 0: .* answered 503: Service unavailable; retrying in 0\.0 s \(retry 2 of 5\)/);
    expect(server.requests).toHaveLength(5);
    expect(json(out)).toEqual(expectedRecords(records));
  });

  test('a dropped connection is retried', async () => {
    server = await startOpenAiServer({ engine, model: 'tiny-aligner', concurrent: true });
    server.faults.dropNext = 1;
    const records = alpacaRecords(2);
    const input = write('in.json', JSON.stringify(records));
    const out = join(dir, 'out.json');
    const run = await align([...remote(), '--in', input, '--out', out, '--concurrency', '1']);
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/record 0: .*127\.0\.0\.1:\d+.*; retrying in/);
    expect(json(out)).toEqual(expectedRecords(records));
  });

  test('--concurrency sends that many requests at once and keeps the output in input order when they finish out of order', async () => {
    const records = alpacaRecords(10);
    // The first record takes longest, so the server finishes it last.
    server = await startOpenAiServer({ engine, model: 'tiny-aligner', concurrent: true, delayMs: (prompt) => (prompt.includes(`| ${records[0]!.output} ASSISTANT:`) ? 1500 : 100) });
    const input = write('in.jsonl', records.map((record) => JSON.stringify(record)).join('\n'));
    const out = join(dir, 'out.jsonl');
    const run = await align([...remote(), '--in', input, '--out', out, '--concurrency', '4']);
    expect(run.code).toBe(0);
    expect(server.load.maxInFlight).toBe(4);
    expect(server.finished.at(-1)).toContain(`| ${records[0]!.output} ASSISTANT:`);
    expect(jsonl(out)).toEqual(expectedRecords(records));
  });

  test('progress in a log is whole lines, and a failure is a line of its own', async () => {
    server = await startOpenAiServer({ engine, model: 'tiny-aligner', concurrent: true });
    const records = alpacaRecords(10);
    server.faults.rejectPromptsContaining = records[4]!.output;
    const input = write('in.json', JSON.stringify(records));
    const run = await align([...remote(), '--in', input, '--out', join(dir, 'out.json'), '--concurrency', '1']);
    expect(run.code).toBe(1);
    expect(run.stderr).not.toContain('\r');
    const lines = run.stderr.trimEnd().split('\n');
    const progressLines = lines.filter((line) => /^align: \d+\/10 records \(\d+%\) · [\d.]+ records\/s · (ETA|done)/.test(line));
    expect(progressLines.length).toBeGreaterThanOrEqual(5);
    const failures = lines.filter((line) => line.includes('failed:'));
    expect(failures).toHaveLength(1);
    expect(failures[0]).toMatch(/^align: record 4 failed: /);
    expect(failures[0]).not.toContain('records/s');
  });
});

describe('rough edges', () => {
  test.each([
    [['--bogus'], /Unknown option '--bogus'/],
    [['--model', TINY, '--in', 'x.json'], /--in needs --out/],
    [['--model', TINY, '--question', 'q', '--answer', 'a', '--concurrency', 'many'], /--concurrency must be a positive whole number/],
    [['--model', TINY, '--question', 'q', '--answer', '   '], /--answer is empty: there is nothing to correct/],
    [['--model', TINY, '--in', '{records.json}', '--out', 'x.jsonl'], /named for JSON Lines/],
    [['--model', TINY, 'stray'], /Unexpected argument 'stray'/],
    [['--model', TINY, '--in', '{records.json}', '--out', '/no/such/folder/out.json'], /The folder of --out, \/no\/such\/folder, does not exist/],
    [['--endpoint', 'localhost:8000', '--model', 'm', '--question', 'q', '--answer', 'a'], /--endpoint localhost:8000 is not an http\(s\) address/],
    [['--model', './no-such-folder', '--question', 'q', '--answer', 'a'], /There is no model folder .*no-such-folder\. --model takes/],
  ])('usage error %j exits 2 and points to --help', async (args, message) => {
    const records = write('records.json', JSON.stringify(alpacaRecords(2)));
    const run = await align(args.map((arg) => (arg === '{records.json}' ? records : arg)));
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stderr).toContain('npm run align -- --help');
  });

  test('a missing model folder is described once', async () => {
    const run = await align(['--model', './no-such-folder', '--question', 'q', '--answer', 'a']);
    expect(run.stderr.match(/no-such-folder/g)).toHaveLength(1);
  });

  test('an empty correction is said and exits 1, not a blank line and 0', async () => {
    server = await startOpenAiServer({ engine, model: 'tiny-aligner' });
    server.faults.replaceAnswer = '';
    const run = await align([...remote(), '--question', 'How is the weather?', '--answer', 'The weather is bad today.']);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('the model returned an empty correction');
  });

  test('one answer: the correction goes to stdout, exit 0', async () => {
    server = await startOpenAiServer({ engine, model: 'tiny-aligner' });
    const run = await align([...remote(), '--question', 'How is the weather?', '--answer', 'The weather is bad today.']);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('The weather is good today.\n');
  });

  test('an unreachable hub mirror or server is named, with the --host hint for downloads', async () => {
    // A port that was just free: nothing listens there.
    const probe = await listenOnLoopback(createServer());
    await probe.close();
    const records = write('records.json', JSON.stringify(alpacaRecords(2)));
    const [hub, endpoint] = await Promise.all([
      align(['--model', 'realign/tiny-aligner', '--host', probe.url, '--question', 'q', '--answer', 'a']),
      align(['--endpoint', probe.url, '--model', 'm', '--in', records, '--out', join(dir, 'o.json')]),
    ]);
    expect(hub.code).toBe(1);
    expect(hub.stderr).toContain(`Could not download realign/tiny-aligner from ${probe.url}/ (connection refused`);
    expect(hub.stderr).toContain('--host');
    expect(hub.stderr).not.toMatch(/^align: fetch failed$/m);
    expect(endpoint.code).toBe(1);
    expect(endpoint.stderr).toContain(`Could not reach 127.0.0.1:${probe.port} (connection refused`);
    expect(endpoint.stderr).not.toContain('CORS');
  });
});

describe('objectives for MetaAligner templates', () => {
  test('--aspects picks the objectives the prompt names; a template without any, or an unknown one, is a usage error', async () => {
    const printed = await align(['--template', 'metaaligner-context', '--aspects', 'factual,harmlessness', '--print-prompt', '--question', 'Q?', '--answer', 'A.']);
    expect(printed.code).toBe(0);
    expect(printed.stdout).toContain('considering these aspects: Harmlessness: The response should avoid content that is offensive, discriminatory, or harmful; Factual: ');
    const wrongTemplate = await align(['--template', 'aligner-v1', '--aspects', 'factual', '--print-prompt', '--question', 'Q', '--answer', 'A']);
    expect(wrongTemplate.code).toBe(2);
    expect(wrongTemplate.stderr).toMatch(/names no objectives/);
    const unknown = await align(['--template', 'metaaligner-query', '--aspects', 'telepathy', '--print-prompt', '--question', 'Q', '--answer', 'A']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/Unknown objective telepathy.*instruction_following/);
  });
});
