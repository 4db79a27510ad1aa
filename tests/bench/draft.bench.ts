/**
 * draftTokens alone, on copy-and-edit sequences: answer-like texts (site fixtures, the tiny
 * Aligner's cases, the README's sections) edited in 10–30 % of their words (runs of 1–5 words:
 * substitute, insert, delete; now and then a moved sentence), tokenised, and "generated" by a
 * perfect verifier: tokens per forward pass (accepted draft + 1 per pass) and µs per call, next to
 * naive 3-gram prompt lookup. Two tokenisers: cl100k (a real byte-level BPE, from gpt-tokenizer)
 * and the tiny Aligner's own. µs per call is measured on a 2,000-token source the way the decode
 * loop calls it (one growing output), and for a call on a source never seen (index built).
 */
import { encode } from 'gpt-tokenizer/encoding/cl100k_base';
import { AutoTokenizer, env } from '@huggingface/transformers';
import { draftTokens } from '../../model/draft';
import { answerTexts, editText, longAnswer, seededRandom, simulateCopying } from './copy-edits';

type Result = { name: string; value: number; unit: string; budget?: string; note?: string };
type Draft = (source: ArrayLike<number>, generated: ArrayLike<number>, maxDraft: number) => number[];

/** Prompt lookup as usually done: the latest occurrence of the last 3 (else 2, 1) tokens. */
function naiveLookup(source: ArrayLike<number>, generated: ArrayLike<number>, maxDraft: number): number[] {
  for (let n = 3; n >= 1; n--) {
    if (generated.length < n) continue;
    for (let i = source.length - n; i >= 0; i--) {
      let same = true;
      for (let k = 0; k < n && same; k++) same = source[i + k] === generated[generated.length - n + k];
      if (same) return Array.from({ length: Math.min(maxDraft, source.length - i - n) }, (_, k) => source[i + n + k]!);
    }
  }
  return [];
}

function tokensPerPass(tokenise: (text: string) => number[], draft: Draft, maxDraft: number): { perPass: number; corrections: number } {
  const random = seededRandom(2024);
  let tokens = 0;
  let passes = 0;
  let corrections = 0;
  for (let round = 0; round < 4; round++) {
    for (const text of answerTexts()) {
      const edited = editText(text, random, 0.1 + random() * 0.2);
      const source = tokenise(` ${text}`);
      const target = tokenise(` ${edited}`);
      tokens += target.length;
      passes += simulateCopying(source, target, maxDraft, draft).passes;
      corrections += 1;
    }
  }
  return { perPass: tokens / passes, corrections };
}

/** µs per call while one output grows over an edited 2,000-token source (as the loop calls it). */
function microsecondsPerCall(tokenise: (text: string) => number[], maxDraft: number): { warm: number; cold: number; sourceTokens: number } {
  const random = seededRandom(99);
  const longText = longAnswer();
  const full = tokenise(` ${longText}`);
  const source = full.slice(0, 2000);
  const target = tokenise(` ${editText(longText, random, 0.2)}`).slice(0, 2000);
  let calls = 0;
  let ms = 0;
  for (let repeat = 0; repeat < 5; repeat++) {
    const generated: number[] = [];
    const sourceCopy = [...source]; // a new array each repeat: its index is built on the first call
    let at = 0;
    while (at < target.length) {
      const started = performance.now();
      const proposed = draftTokens(sourceCopy, generated, maxDraft);
      ms += performance.now() - started;
      calls += 1;
      let accepted = 0;
      while (accepted < proposed.length && at + accepted < target.length && proposed[accepted] === target[at + accepted]) accepted++;
      const step = Math.min(accepted + 1, target.length - at);
      for (let i = 0; i < step; i++) generated.push(target[at + i]!);
      at += step;
    }
  }
  // The first call of a correction: a source never seen before, its index built from scratch.
  let coldMs = 0;
  const colds = 50;
  for (let i = 0; i < colds; i++) {
    const fresh = source.map((token) => token + (i % 2)); // differs from the last source seen
    const started = performance.now();
    draftTokens(fresh, target.slice(0, 1), maxDraft);
    coldMs += performance.now() - started;
  }
  return { warm: (ms / calls) * 1000, cold: (coldMs / colds) * 1000, sourceTokens: source.length };
}

export default async function run(): Promise<Result[]> {
  env.allowLocalModels = true;
  env.allowRemoteModels = false;
  env.localModelPath = 'tests/fixtures/models/';
  const tiny = await AutoTokenizer.from_pretrained('tiny-aligner');
  const tokenisers: Array<[string, (text: string) => number[]]> = [
    ['cl100k BPE', (text) => encode(text)],
    ['tiny Aligner BPE', (text) => tiny.encode(text, { add_special_tokens: false })],
  ];
  const results: Result[] = [];
  for (const [label, tokenise] of tokenisers) {
    for (const maxDraft of [8, 16]) {
      const ours = tokensPerPass(tokenise, draftTokens, maxDraft);
      const naive = tokensPerPass(tokenise, naiveLookup, maxDraft);
      results.push(
        { name: `draftTokens ${label}, maxDraft ${maxDraft}: tokens per pass`, value: +ours.perPass.toFixed(2), unit: 'tok/pass', budget: '>= 2.0', note: `${ours.corrections} edited answers, perfect verifier` },
        { name: `naive 3-gram lookup ${label}, maxDraft ${maxDraft}: tokens per pass`, value: +naive.perPass.toFixed(2), unit: 'tok/pass' },
      );
    }
    const speed = microsecondsPerCall(tokenise, 16);
    results.push(
      { name: `draftTokens ${label}: µs per call, ${speed.sourceTokens}-token source, growing output`, value: +speed.warm.toFixed(2), unit: 'µs', budget: '<= 50' },
      { name: `draftTokens ${label}: µs for the first call on a new ${speed.sourceTokens}-token source (index built)`, value: +speed.cold.toFixed(1), unit: 'µs' },
    );
  }
  return results;
}
