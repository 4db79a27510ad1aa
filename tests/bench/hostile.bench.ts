/**
 * Issue 12: the longest synchronous block that each hostile input (tests/support/hostile-inputs.ts)
 * causes in the code that runs on a page's main thread or in the engine host / service worker, in
 * Node: the word diff, Markdown rendered to VNodes, the SSE parser, the remote engine's stream
 * (through correctAnswer, as the engine host runs it), and planning with a fake tokenizer.
 * Goal: at most 200 ms each. Each figure is the median of RUNS runs after a warm-up (the largest
 * of them in the note); this machine is shared, so read them as orders of magnitude.
 */
import { correctAnswer, type AlignerEngine, type GenerateOptions, type Prompt } from '../../model/engine.ts';
import { RemoteEngine } from '../../model/remote-engine.ts';
import { SseParser } from '../../model/sse.ts';
import { diffAnswer } from '../../utils/diff.ts';
import { renderMarkdown } from '../../utils/markdown.tsx';
import { diffCases, markdownCases, planningCases, streamCases, type StreamCase } from '../support/hostile-inputs.ts';

type Result = { name: string; value: number; unit: string; budget?: string; note?: string };

const RUNS = 3;
const GOAL = '≤ 200 ms';
const round = (ms: number) => Math.round(ms * 10) / 10;
const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** Runs `measure` once to warm up, then RUNS times; the median and the largest of what it returns. */
async function repeat(measure: () => number | Promise<number>): Promise<{ median: number; max: number }> {
  await measure();
  const values: number[] = [];
  for (let run = 0; run < RUNS; run++) values.push(await measure());
  return { median: round(median(values)), max: round(Math.max(...values)) };
}

function timed(work: () => unknown): number {
  const started = performance.now();
  work();
  return performance.now() - started;
}

/**
 * Records the synchronous blocks of an async run: `mark()` at every point where the code under
 * test hands control back (an await on I/O), so the longest gap between marks is its longest block.
 */
class BlockClock {
  private last = performance.now();
  longest = 0;
  mark(): void {
    const now = performance.now();
    this.longest = Math.max(this.longest, now - this.last);
    this.last = now;
  }
  /** Time spent waiting (not the code's own work) is not a block: restart the clock. */
  resume(): void {
    this.last = performance.now();
  }
}

/** A fetch that streams the case's chunks, one per macrotask, as a network would. */
function streamingFetch(stream: StreamCase, clock: BlockClock, seen: { chunks: number }): typeof fetch {
  return (async () => {
    let index = 0;
    const body = new ReadableStream<Uint8Array>(
      {
        async pull(controller) {
          clock.mark(); // the engine finished with the last chunk and asked for the next
          await new Promise((resolve) => setImmediate(resolve));
          clock.resume();
          if (index >= stream.chunks.length) return controller.close();
          seen.chunks = index + 1;
          controller.enqueue(new TextEncoder().encode(stream.chunks[index++]!));
        },
      },
      { highWaterMark: 0 },
    );
    return new Response(body, { status: 200, headers: { 'Content-Type': 'text/event-stream' } });
  }) as unknown as typeof fetch;
}

/** A fake tokenizer with a real tokenizer's linear cost: words and punctuation marks. */
function fakeTokens(text: string): number {
  let count = 0;
  const words = /\w+|[^\w\s]/g;
  while (words.exec(text) !== null) count++;
  return count;
}

/** Counts with the fake tokenizer and corrects by echoing (bad→good) at once, marking the block clock at each call. */
function planningEngine(clock: BlockClock, calls: { count: number; generate: number }): AlignerEngine {
  return {
    device: 'wasm',
    async countPromptTokens(prompt: Prompt) {
      clock.mark();
      calls.count++;
      const tokens = fakeTokens(prompt.kind === 'text' ? prompt.text : prompt.messages.map((m) => m.content).join('\n'));
      await Promise.resolve();
      return tokens;
    },
    async generate(_prompt: Prompt, options: GenerateOptions) {
      clock.mark();
      calls.generate++;
      const text = ` ${(options.source ?? '').replace(/\bbad\b/g, 'good')}`;
      options.onText?.(text);
      await new Promise((resolve) => setImmediate(resolve));
      clock.resume();
      return { text, tokens: fakeTokens(text) };
    },
    async dispose() {},
  };
}

export default async function run(): Promise<Result[]> {
  const results: Result[] = [];
  const add = (area: string, name: string, figure: { median: number; max: number }, note: string) =>
    results.push({ name: `${area}: ${name}`, value: figure.median, unit: 'ms', budget: GOAL, note: `max ${figure.max} ms; ${note}` });

  for (const c of diffCases()) {
    let parts = 0;
    const figure = await repeat(() => timed(() => (parts = diffAnswer(c.original, c.corrected).length)));
    add('diff', c.name, figure, `${((c.original.length + c.corrected.length) / 1000).toFixed(0)} K chars in, ${parts} parts out`);
  }

  for (const c of markdownCases()) {
    const figure = await repeat(() => timed(() => renderMarkdown(c.text)));
    add('markdown → VNodes', c.name, figure, `${(c.text.length / 1000).toFixed(1)} K chars`);
  }

  for (const c of streamCases()) {
    let events = 0;
    let outcome = 'parsed';
    const figure = await repeat(() => {
      const parser = new SseParser();
      let longest = 0;
      events = 0;
      outcome = 'parsed';
      try {
        for (const chunk of c.chunks) longest = Math.max(longest, timed(() => (events += parser.push(chunk).length)));
      } catch (error) {
        outcome = `stopped: ${(error as Error).name}`;
      }
      return longest;
    });
    add('SSE parse, longest chunk', c.name, figure, `${(c.size / 1e6).toFixed(1)} MB in ${c.chunks.length} chunks; ${events} events; ${outcome}`);
  }

  // The remote engine's whole path in the engine host: fetch body → SSE → caps → correctAnswer's
  // throttled deltas. A 60 KB answer on a large-context server, the settings' largest budget.
  const answer = planningCases()[2]!.answer;
  for (const c of streamCases()) {
    const seen = { chunks: 0 };
    let outcome = '';
    const figure = await repeat(async () => {
      const clock = new BlockClock();
      const engine = new RemoteEngine({ endpoint: 'http://127.0.0.1:9', model: 'm', apiKey: '', timeoutMs: 30_000 }, streamingFetch(c, clock, seen));
      let updates = 0;
      try {
        const result = await correctAnswer(engine, 'Q?', answer, {
          template: 'aligner-v1',
          contextLength: 1_000_000,
          maxNewTokens: 32_768,
          onUpdate: () => void updates++,
        });
        outcome = `${result.text.length} chars kept; ${result.notes.length} note(s)`;
      } catch (error) {
        outcome = `error: ${(error as Error).message.slice(0, 80)}`;
      }
      clock.mark();
      outcome += `; ${updates} updates`;
      return clock.longest;
    });
    add('remote stream → correctAnswer, longest block', c.name, figure, `read ${seen.chunks} of ${c.chunks.length} chunks; ${outcome}`);
  }

  for (const c of planningCases()) {
    const calls = { count: 0, generate: 0 };
    let notes = 0;
    const figure = await repeat(async () => {
      const clock = new BlockClock();
      calls.count = 0;
      calls.generate = 0;
      const result = await correctAnswer(planningEngine(clock, calls), c.question, c.answer, { template: 'aligner-v1', contextLength: 2048, maxNewTokens: 1024 });
      clock.mark();
      notes = result.notes.length;
      return clock.longest;
    });
    add('planning + correctAnswer (fake tokenizer), longest block', c.name, figure, `${calls.count} tokenizer calls, ${calls.generate} parts generated, ${notes} note(s)`);
  }
  return results;
}
