// Hostile inputs of at most a few MB, from issue 12: what a chat page, a model or a remote server
// could hand Realign to freeze a tab. Deterministic (no randomness between runs), built on demand,
// shared by tests/bench/hostile.bench.ts and the panel's in-browser long-task measurement.
import { editWords, generateAnswer, seededRandom } from './prose';

/** A diff pair: the answer and its correction. */
export interface DiffCase {
  name: string;
  original: string;
  corrected: string;
}

/** Text the panel renders as Markdown. */
export interface MarkdownCase {
  name: string;
  text: string;
}

/** A question/answer pair for planning (chunking) and correction. */
export interface PlanningCase {
  name: string;
  question: string;
  answer: string;
}

/** What an OpenAI-compatible server streams, cut into the chunks the network would deliver. */
export interface StreamCase {
  name: string;
  chunks: string[];
  /** Characters in all. */
  size: number;
}

const CJK_WORDS = '这是一个测试句子包含中文字符我们需要检查性能问题以及分词的速度和差异算法的表现';

/** 60 KB-ish of Chinese with no punctuation at all: one run for the word segmenter. */
export function cjkRun(chars = 60_000): string {
  let text = '';
  for (let i = 0; text.length < chars; i++) text += CJK_WORDS[(i * 7) % CJK_WORDS.length];
  return text;
}

/** `count` short paragraphs ("Item 12 is bad."), blank lines between. */
export function shortParagraphs(count = 8_000): string {
  return Array.from({ length: count }, (_, i) => `Item ${i} is bad.`).join('\n\n');
}

/** A question of `chars` characters: an ask, pasted material, and the ask again at the end. */
export function hugeQuestion(chars = 100_000): string {
  const filler = 'lorem ipsum dolor sit amet ';
  return `Please fix this. ${filler.repeat(Math.ceil(chars / filler.length)).slice(0, chars)} What is wrong here?`;
}

export function diffCases(): DiffCase[] {
  const rnd = seededRandom(12);
  const answer = generateAnswer(rnd, 1_000_000);
  const spaces30k = ' '.repeat(30_000);
  const spaces1m = ' '.repeat(1_000_000);
  const cjk = cjkRun();
  return [
    { name: '30k-space run between changes', original: `a ${spaces30k}\n b`, corrected: `c ${spaces30k}\n d` },
    { name: '1 MB space run between changes', original: `a ${spaces1m}\n b`, corrected: `c ${spaces1m}\n d` },
    { name: '60 KB CJK, one run, 1 % of characters changed', original: cjk, corrected: [...cjk].map((c, i) => (i % 97 === 0 ? '好' : c)).join('') },
    { name: '60 KB CJK against other CJK', original: cjk, corrected: [...cjk].reverse().join('') },
    { name: '1 MB answer, 30 % of words changed', original: answer, corrected: editWords(rnd, answer, 0.3) },
    { name: '1 MB answer against a different 1 MB', original: answer, corrected: generateAnswer(seededRandom(13), 1_000_000) },
  ];
}

/** Lines made by `line(i)` joined with newlines, up to about `chars` characters. */
function linesUpTo(chars: number, line: (index: number) => string): string {
  const lines: string[] = [];
  let length = 0;
  for (let i = 0; length < chars; i++) {
    const next = line(i);
    lines.push(next);
    length += next.length + 1;
  }
  return lines.join('\n');
}

export function markdownCases(): MarkdownCase[] {
  const rnd = seededRandom(7);
  return [
    { name: '`_a_a…` 60 KB', text: '_a'.repeat(30_000) },
    { name: '`_a_a…` 20 KB (under the size limit)', text: '_a'.repeat(10_000) },
    { name: '`**a**a…` 38 KB', text: '**a'.repeat(12_800) },
    { name: 'nested `> ` 3.2 KB', text: '> '.repeat(1_600) + 'deep' },
    { name: 'nested `> ` 39 KB', text: '> '.repeat(19_500) + 'deep' },
    { name: 'nested lists by indentation 39 KB', text: linesUpTo(39_000, (i) => `${'  '.repeat(i % 40)}- level ${i}`) },
    { name: 'nested bullets `- - - …` 39 KB', text: linesUpTo(39_000, (i) => `${'- '.repeat(1 + (i % 16))}item ${i}`) },
    { name: 'a flat list 39 KB (at the work limit)', text: linesUpTo(39_000, (i) => `- item ${i}`) },
    { name: 'nested bullets 8 deep, 28 KB (at the work limit)', text: linesUpTo(28_000, (i) => `${'- '.repeat(1 + (i % 8))}item ${i}`) },
    { name: 'ordinary Markdown 39 KB', text: generateAnswer(rnd, 39_000) },
    { name: 'ordinary Markdown 1 MB (plain)', text: generateAnswer(rnd, 1_000_000) },
  ];
}

export function planningCases(): PlanningCase[] {
  return [
    { name: '100 KB question + 8,000 short paragraphs', question: hugeQuestion(), answer: shortParagraphs() },
    { name: '1 MB answer of prose', question: 'Explain.', answer: generateAnswer(seededRandom(3), 1_000_000) },
    { name: '1 MB question, 60 KB answer', question: hugeQuestion(1_000_000), answer: generateAnswer(seededRandom(4), 60_000) },
  ];
}

const sseEvent = (piece: string) => `data: ${JSON.stringify({ choices: [{ text: piece }] })}\n\n`;

/** Cuts text into network-sized chunks. */
function chunked(text: string, size: number): string[] {
  const chunks: string[] = [];
  for (let at = 0; at < text.length; at += size) chunks.push(text.slice(at, at + size));
  return chunks;
}

export function streamCases(): StreamCase[] {
  const cases: Array<{ name: string; text: string; chunk: number }> = [];
  // 1 MB and 3 MB of ordinary-looking token events (a server that ignores max_tokens).
  for (const megabytes of [1, 3]) {
    let text = '';
    for (let i = 0; text.length < megabytes * 1_000_000; i++) text += sseEvent(` word${i}`);
    cases.push({ name: `${megabytes} MB of small token events`, text: `${text}data: [DONE]\n\n`, chunk: 16 * 1024 });
  }
  // A few huge pieces: 1 MB of text in 1 KB events.
  let big = '';
  for (let i = 0; big.length < 1_000_000; i++) big += sseEvent('x'.repeat(1_000));
  cases.push({ name: '1 MB in 1 KB pieces', text: `${big}data: [DONE]\n\n`, chunk: 16 * 1024 });
  // One 3 MB line, delivered 1 KB at a time (over the event cap).
  cases.push({ name: 'one 3 MB event, 1 KB chunks', text: `data: ${'y'.repeat(3_000_000)}\n\n`, chunk: 1024 });
  return cases.map(({ name, text, chunk }) => ({ name, chunks: chunked(text, chunk), size: text.length }));
}
