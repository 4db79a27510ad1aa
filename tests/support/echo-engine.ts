import { AbortError, type AlignerEngine, type GenerateOptions, type Prompt } from '../../model/engine';

/**
 * A stand-in engine for host logic: it "corrects" by echoing the answer from the prompt with
 * bad→good, one word per step, so streaming, chunking and cancellation can be checked exactly.
 * (The real model path is tested on the tiny Aligner in tiny-aligner.test.ts and in browsers.)
 */
export class EchoEngine implements AlignerEngine {
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

