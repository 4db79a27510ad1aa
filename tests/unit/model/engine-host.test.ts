import { describe, expect, test, vi } from 'vitest';
import { AbortError, correctAnswer, type AlignerEngine, type GenerateOptions, type Prompt } from '../../../model/engine';
import { EngineHost, type HostPlatform } from '../../../model/engine-host';
import type { CorrectionUpdate, EngineJob } from '../../../utils/protocol';

/**
 * A stand-in engine for host logic: it "corrects" by echoing the answer from the prompt with
 * bad→good, one word per step, so streaming, chunking and cancellation can be checked exactly.
 * (The real model path is tested on the tiny Aligner in tiny-aligner.test.ts and in browsers.)
 */
class EchoEngine implements AlignerEngine {
  generated: string[] = [];
  constructor(readonly device: 'webgpu' | 'wasm', private readonly failOnGpu = false) {}
  async countPromptTokens(prompt: Prompt) {
    return prompt.kind === 'text' ? prompt.text.split(/\s+/).length : 10;
  }
  async generate(prompt: Prompt, options: GenerateOptions) {
    if (this.failOnGpu && this.device === 'webgpu') throw new Error('GPU device lost');
    const text = prompt.kind === 'text' ? prompt.text : '';
    const answer = text.slice(text.indexOf('| ') + 2, text.lastIndexOf(' ASSISTANT:'));
    const words = answer.replace(/\bbad\b/g, 'good').split(/(?<= )/);
    let out = '';
    for (const word of words) {
      if (options.signal?.aborted) throw new AbortError();
      await new Promise((resolve) => setTimeout(resolve, 1));
      out += word;
      options.onText?.(' ' + out);
    }
    this.generated.push(out);
    return { text: ' ' + out, tokens: words.length };
  }
  async dispose() {}
}

const job = (answer: string, contextLength = 2048): EngineJob => ({
  question: 'Q?',
  answer,
  maxNewTokens: 256,
  model: {
    engine: 'local',
    repo: 'realign/tiny-aligner',
    template: 'aligner-v1',
    dtypes: { webgpu: 'fp32', wasm: 'fp32', webgpuNoF16: 'fp32' },
    contextLength,
    host: 'http://127.0.0.1/',
    allowWebgpu: true,
  },
});

function platform(options: { gpu: boolean; failOnGpu?: boolean }) {
  const loads: string[] = [];
  const value: HostPlatform = {
    detectWebGpu: async () => ({ available: options.gpu, f16: false, reason: options.gpu ? undefined : 'No WebGPU adapter.' }),
    loadLocal: async ({ device }) => {
      loads.push(device);
      return new EchoEngine(device, options.failOnGpu);
    },
    createRemote: () => {
      throw new Error('not used');
    },
    onIdle: () => undefined,
    onStatus: () => undefined,
  };
  return { value, loads };
}

describe('EngineHost', () => {
  test('loads once on WebGPU when an adapter exists, streams text in order, then done', async () => {
    const { value, loads } = platform({ gpu: true });
    const host = new EngineHost(value);
    const updates: CorrectionUpdate[] = [];
    await host.run('1', job('The weather is bad today.'), (update) => updates.push(update));
    await host.run('2', job('It is bad.'), () => undefined);
    expect(loads).toEqual(['webgpu']);
    const texts = updates.filter((update) => update.kind === 'text').map((update) => (update as { text: string }).text);
    for (let i = 1; i < texts.length; i++) expect(texts[i]!.length).toBeGreaterThanOrEqual(texts[i - 1]!.length);
    expect(updates.at(-1)).toMatchObject({ kind: 'done', text: 'The weather is good today.' });
    expect(updates.find((update) => update.kind === 'loading')).toMatchObject({ device: 'webgpu' });
  });

  test('no adapter: WASM, and the reason is said', async () => {
    const { value, loads } = platform({ gpu: false });
    const updates: CorrectionUpdate[] = [];
    await new EngineHost(value).run('1', job('bad'), (update) => updates.push(update));
    expect(loads).toEqual(['wasm']);
    expect(updates.find((update) => update.kind === 'loading')).toMatchObject({ device: 'wasm', fallbackReason: 'No WebGPU adapter.' });
  });

  test('a GPU failure mid-correction falls back to WASM and still finishes', async () => {
    const { value, loads } = platform({ gpu: true, failOnGpu: true });
    const updates: CorrectionUpdate[] = [];
    await new EngineHost(value).run('1', job('It is bad.'), (update) => updates.push(update));
    expect(loads).toEqual(['webgpu', 'wasm']);
    expect(updates.filter((update) => update.kind === 'loading').at(-1)).toMatchObject({ device: 'wasm', fallbackReason: expect.stringMatching(/GPU device lost/) });
    expect(updates.at(-1)).toMatchObject({ kind: 'done', text: 'It is good.' });
  });

  test('cancel stops the generation with a cancelled error', async () => {
    const host = new EngineHost(platform({ gpu: false }).value);
    const updates: CorrectionUpdate[] = [];
    const running = host.run('1', job('one two three four five six seven eight nine ten eleven twelve'), (update) => {
      updates.push(update);
      if (update.kind === 'text') host.cancel('1');
    });
    await running;
    expect(updates.at(-1)).toEqual({ kind: 'error', message: 'The correction was cancelled.' });
    expect(updates.filter((update) => update.kind === 'text').length).toBeLessThanOrEqual(2);
  });
});

describe('EngineHost idle time', () => {
  test('after the configured idle time without work the model is freed and the host told to close', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    try {
      let idle = 0;
      let disposed = 0;
      const { value } = platform({ gpu: false });
      const loadLocal = value.loadLocal;
      value.loadLocal = async (options) => {
        const engine = await loadLocal(options);
        engine.dispose = async () => void (disposed += 1);
        return engine;
      };
      value.onIdle = () => void (idle += 1);
      const host = new EngineHost(value);
      host.configure(60_000);
      let settled = false;
      void host.run('1', job('It is bad.'), () => undefined).finally(() => (settled = true));
      // The stand-in engine waits 1 ms a word: step the fake clock until the job is done.
      while (!settled) await vi.advanceTimersByTimeAsync(1);
      await vi.advanceTimersByTimeAsync(59_000);
      expect(idle).toBe(0);
      await vi.advanceTimersByTimeAsync(2_000);
      expect(disposed).toBe(1);
      expect(idle).toBe(1);
      expect(host.getStatus()).toEqual({ state: 'empty' });
    } finally {
      vi.useRealTimers();
    }
  });
});

describe('correctAnswer with chunking', () => {
  test('a long answer is corrected part by part and rejoined exactly around the corrected parts', async () => {
    const engine = new EchoEngine('wasm');
    const paragraphs = Array.from({ length: 6 }, (_, i) => `Paragraph ${i} is bad and long enough to matter here.`);
    const answer = paragraphs.join('\n\n');
    const updates: CorrectionUpdate[] = [];
    const result = await correctAnswer(engine, 'Q?', answer, { template: 'aligner-v1', contextLength: 60, maxNewTokens: 64, onUpdate: (u) => updates.push(u) });
    expect(result.text).toBe(answer.replace(/\bbad\b/g, 'good'));
    expect(engine.generated.length).toBeGreaterThan(1);
    // The first part shows before the last one starts.
    const firstDone = updates.findIndex((update) => update.kind === 'text' && update.part === 1 && update.text.includes('Paragraph 0 is good'));
    const lastPart = updates.findIndex((update) => update.kind === 'text' && update.part === update.parts);
    expect(firstDone).toBeGreaterThan(-1);
    expect(firstDone).toBeLessThan(lastPart);
  });

  test('a single paragraph too long for the context is passed through unchanged with a note', async () => {
    const engine = new EchoEngine('wasm');
    const long = Array.from({ length: 80 }, () => 'bad').join(' ');
    const result = await correctAnswer(engine, 'Q?', `It is bad.\n\n${long}`, { template: 'aligner-v1', contextLength: 60, maxNewTokens: 64 });
    expect(result.text).toBe(`It is good.\n\n${long}`);
    expect(result.notes.join(' ')).toMatch(/too long.*unchanged/);
  });
});
