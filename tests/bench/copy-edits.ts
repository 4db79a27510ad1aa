/**
 * Answer-like texts and copy-and-edit corrections of them, for the drafting and decode benches:
 * the answers on the site fixtures (as findExchanges reads them), the tiny Aligner's cases and the
 * README's sections; each corrected by editing 10–30 % of its words in runs of 1–5 words
 * (substitute, insert, delete) and, now and then, moving a sentence. Seeded: every run is the same.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Window } from 'happy-dom';
import { findExchanges } from '../../sites/index';

export { seededRandom } from '../support/prose';
import { seededRandom } from '../support/prose';

const SITE_URLS: Record<string, string> = {
  chatgpt: 'https://chatgpt.com/c/1',
  claude: 'https://claude.ai/chat/1',
  gemini: 'https://gemini.google.com/app/1',
  copilot: 'https://copilot.microsoft.com/chats/1',
  perplexity: 'https://www.perplexity.ai/search/1',
  deepseek: 'https://chat.deepseek.com/a/chat/s/1',
  grok: 'https://grok.com/chat/1',
  mistral: 'https://chat.mistral.ai/chat/1',
  poe: 'https://poe.com/chat/1',
  huggingchat: 'https://huggingface.co/chat/conversation/1',
  aistudio: 'https://aistudio.google.com/prompts/1',
  demo: 'http://127.0.0.1/demo',
};

/** Distinct answers of at least a few words: site fixtures, tiny Aligner cases, README sections. */
export function answerTexts(): string[] {
  const texts = new Set<string>();
  const window = new Window();
  for (const [site, url] of Object.entries(SITE_URLS)) {
    const html = readFileSync(resolve('tests/fixtures/sites', `${site}.html`), 'utf8');
    const doc = new window.DOMParser().parseFromString(html, 'text/html') as unknown as Document;
    for (const exchange of findExchanges(doc, new URL(url))) texts.add(exchange.answer.trim());
  }
  void window.happyDOM.close();
  const cases = JSON.parse(readFileSync('tests/fixtures/tiny-aligner-cases.json', 'utf8')) as Array<{ answer: string }>;
  for (const entry of cases) texts.add(entry.answer.trim());
  for (const section of readFileSync('README.md', 'utf8').split(/\n(?=#)/)) texts.add(section.trim());
  return [...texts].filter((text) => text.split(/\s+/).length >= 4);
}

/** Every answer-like text joined, for a long source (cut to a token budget by the caller). */
export function longAnswer(): string {
  return answerTexts().join('\n\n');
}

const REPLACEMENTS = ['always', 'often', 'clearly', 'good', 'safe', 'better', 'really', 'the', 'a', 'useful', 'new', 'instead', 'carefully', 'helps', 'correct', 'also', 'not', 'each'];

/**
 * Edits `fraction` of the words of `text` (runs of 1–5 words: substitute, insert or delete), and
 * with probability `moveChance` moves one sentence elsewhere. Whitespace between kept words stays.
 */
export function editText(text: string, random: () => number, fraction: number, moveChance = 0.15): string {
  const pieces = text.split(/(\s+)/); // words at even indices, whitespace at odd ones
  const wordCount = Math.ceil(pieces.length / 2);
  let budget = Math.round(wordCount * fraction);
  const pick = () => REPLACEMENTS[Math.floor(random() * REPLACEMENTS.length)]!;
  let guard = 0;
  while (budget > 0 && guard++ < 1000) {
    const run = Math.min(budget, 1 + Math.floor(random() * 5));
    const words = Math.ceil(pieces.length / 2);
    const start = Math.floor(random() * words);
    const at = start * 2;
    const kind = random();
    if (kind < 0.5) {
      for (let i = 0; i < run && at + 2 * i < pieces.length; i++) pieces[at + 2 * i] = pick();
    } else if (kind < 0.75) {
      const inserted: string[] = [];
      for (let i = 0; i < run; i++) inserted.push(pick(), ' ');
      pieces.splice(at, 0, ...inserted);
    } else {
      pieces.splice(at, Math.min(run * 2, Math.max(0, pieces.length - at - 1)));
    }
    budget -= run;
  }
  let edited = pieces.join('');
  if (random() < moveChance) {
    const sentences = edited.match(/[^.!?]+[.!?]+\s*/g);
    const covered = sentences?.join('') ?? '';
    if (sentences && sentences.length >= 3 && edited.startsWith(covered)) {
      const tail = edited.slice(covered.length);
      const from = Math.floor(random() * sentences.length);
      const [moved] = sentences.splice(from, 1);
      const to = Math.floor(random() * sentences.length);
      sentences.splice(to, 0, moved!);
      edited = sentences.join('') + tail;
    }
  }
  return edited;
}

/** Tokens a perfect verifier emits per forward pass when `draft` proposes from `source`. */
export function simulateCopying(
  source: ArrayLike<number>,
  target: number[],
  maxDraft: number,
  draft: (source: ArrayLike<number>, generated: ArrayLike<number>, maxDraft: number) => number[],
): { passes: number; calls: number; ms: number } {
  let passes = 0;
  let calls = 0;
  let ms = 0;
  let at = 0;
  while (at < target.length) {
    const generated = target.slice(0, at);
    const started = performance.now();
    const proposed = draft(source, generated, maxDraft);
    ms += performance.now() - started;
    calls += 1;
    let accepted = 0;
    while (accepted < proposed.length && at + accepted < target.length && proposed[accepted] === target[at + accepted]) accepted++;
    // The accepted tokens and the model's own next one (the bonus token).
    at += accepted + 1;
    passes += 1;
  }
  return { passes, calls, ms };
}
