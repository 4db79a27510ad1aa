/**
 * `npm run align` against a server that batches concurrent requests: records per second with
 * --concurrency 1 and with --concurrency 16. The server is the loopback OpenAI-compatible server
 * in concurrent mode with a fixed 200 ms per request (a vLLM server's time per answer barely
 * depends on how many it serves at once). Its answers come from the tiny Aligner, replayed after
 * the first time (greedy: the same text), so the tiny model's CPU time on this shared machine
 * does not stand in for a GPU's batched step: the server's delay dominates, and the figure is
 * the client's. The CLI runs in this process (runCli, the command's own code): Node's start-up
 * is not counted.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadNodeEngine } from '../../model/node-platform';
import { runCli } from '../../scripts/align/cli';
import { startOpenAiServer } from '../support/openai-server';

type Result = { name: string; value: number; unit: string; budget?: string; note?: string };
const DELAY_MS = 200;

export default async function run(): Promise<Result[]> {
  const engine = await loadNodeEngine({ model: 'tests/fixtures/models/tiny-aligner' });
  const server = await startOpenAiServer({ engine, model: 'tiny-aligner', concurrent: true, delayMs: DELAY_MS, replayAnswers: true });
  const dir = mkdtempSync(join(tmpdir(), 'realign-bench-'));
  const cases = JSON.parse(readFileSync('tests/fixtures/tiny-aligner-cases.json', 'utf8')) as Array<{ question: string; answer: string; corrected: string }>;
  const records = (count: number) => Array.from({ length: count }, (_, index) => ({ instruction: cases[index % cases.length]!.question, output: cases[index % cases.length]!.answer, generator: 'bench' }));

  const recordsPerSecond = async (concurrency: number, count: number) => {
    const input = join(dir, `in-${concurrency}.json`);
    const out = join(dir, `out-${concurrency}.json`);
    writeFileSync(input, JSON.stringify(records(count)));
    let log = '';
    const sink = { write: (text: string) => (log += text) };
    const started = performance.now();
    const code = await runCli(['--endpoint', server.url, '--model', 'tiny-aligner', '--in', input, '--out', out, '--overwrite', '--concurrency', String(concurrency)], {
      stdout: sink,
      stderr: sink,
      env: {},
    });
    const seconds = (performance.now() - started) / 1000;
    if (code !== 0) throw new Error(`align exited ${code}:\n${log}`);
    // A fast wrong answer is no answer: every record must hold its exact correction.
    const written = JSON.parse(readFileSync(out, 'utf8')) as Array<{ output: string }>;
    const wrong = written.findIndex((record, index) => record.output !== cases[index % cases.length]!.corrected);
    if (written.length !== count || wrong !== -1) throw new Error(`align wrote ${written.length} of ${count} records; record ${wrong} is not the expected correction`);
    return count / seconds;
  };

  try {
    await recordsPerSecond(16, cases.length); // warm-up: every answer generated once, the connection pool
    const sequential = await recordsPerSecond(1, 25);
    const concurrent = await recordsPerSecond(16, 160);
    return [
      { name: `align --endpoint, ${DELAY_MS} ms a request: --concurrency 1`, value: +sequential.toFixed(2), unit: 'records/s', note: '25 records' },
      { name: `align --endpoint, ${DELAY_MS} ms a request: --concurrency 16`, value: +concurrent.toFixed(2), unit: 'records/s', note: '160 records' },
      { name: 'align --endpoint: --concurrency 16 speed-up over 1', value: +(concurrent / sequential).toFixed(1), unit: '×', budget: '≥ 12 (16 at most)' },
    ];
  } finally {
    await server.close();
    await engine.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
}
