// @vitest-environment happy-dom
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findExchanges } from '../../../sites/index';
import { locate } from '../../../sites/core';
import { adapterForUrl, SITES as REGISTERED } from '../../../sites/registry';
import { loadFixture } from './load';

const Q = ['How do I reverse a list in Python?', 'And in JavaScript?', 'Thanks!'];
const answer1 = (lang: string): string =>
  'You can use list.reverse() or slicing:\n\n' +
  '```' + lang + '\nitems = [1, 2, 3]\nitems.reverse()\n```\n\n' +
  '- reverse() changes the list in place\n- [::-1] returns a new list\n\n' +
  'See the Python docs.';
const ANSWER2 =
  'Use array.reverse(), which also reverses in place.\n\n' +
  '1. Copy first with [...array] if you need the original.\n2. Or use toReversed() in modern engines.';
const ANSWER3 = "You're welc";

/**
 * Where each registered site's fixture lives and the language its code block names. The site list
 * comes from the registry: a new adapter without a fixture and an entry here fails below.
 */
const FIXTURES: Record<string, { url: string; lang: string }> = {
  chatgpt: { url: 'https://chatgpt.com/c/6789', lang: 'python' },
  claude: { url: 'https://claude.ai/chat/1234', lang: 'python' },
  gemini: { url: 'https://gemini.google.com/app/abcd', lang: '' },
  copilot: { url: 'https://copilot.microsoft.com/chats/xyz', lang: 'python' },
  perplexity: { url: 'https://www.perplexity.ai/search/reverse-a-list', lang: 'python' },
  deepseek: { url: 'https://chat.deepseek.com/a/chat/s/42', lang: '' },
  grok: { url: 'https://grok.com/chat/99', lang: '' },
  mistral: { url: 'https://chat.mistral.ai/chat/abc', lang: 'python' },
  poe: { url: 'https://poe.com/chat/2x3y', lang: 'python' },
  huggingchat: { url: 'https://huggingface.co/chat/conversation/66aa', lang: 'python' },
  aistudio: { url: 'https://aistudio.google.com/prompts/1a2b', lang: 'python' },
};
/** The local demo page holds its own conversation (tested at the end). */
const DEMO = 'demo';

/** Every site fixture holds the same three exchanges (the last one still streaming). */
const SITES = REGISTERED.filter((site) => site.id !== DEMO).map((site) => ({ site: site.id, ...(FIXTURES[site.id] ?? { url: '', lang: '' }) }));

describe('findExchanges on each site fixture', () => {
  it('every site in the registry has a fixture page and an entry here (and nothing here is unregistered)', () => {
    for (const site of REGISTERED) {
      expect(existsSync(resolve(__dirname, `../../fixtures/sites/${site.id}.html`)), `tests/fixtures/sites/${site.id}.html`).toBe(true);
      if (site.id !== DEMO) expect(FIXTURES[site.id], `FIXTURES.${site.id}`).toBeDefined();
    }
    expect(Object.keys(FIXTURES).sort()).toEqual(REGISTERED.map((site) => site.id).filter((id) => id !== DEMO).sort());
  });

  for (const { site, url, lang } of SITES) {
    it(`${site}: pairs every answer with its question, text exact, chrome stripped, last one streaming`, () => {
      const doc = loadFixture(site);
      const found = findExchanges(doc, new URL(url));
      expect(found.map((e) => e.site)).toEqual([site, site, site]);
      expect(found.map((e) => e.question)).toEqual(Q);
      expect(found.map((e) => e.answer)).toEqual([answer1(lang), ANSWER2, ANSWER3]);
      expect(found.map((e) => e.streaming)).toEqual([false, false, true]);
      for (const e of found) expect(e.answerElement.isConnected).toBe(true);
    });

    it(`${site}: the adapter's primary selectors match (health ok)`, () => {
      const doc = loadFixture(site);
      const adapter = adapterForUrl(new URL(url), doc);
      expect(adapter?.id).toBe(site);
      expect(locate(adapter!, doc).status).toBe('ok');
    });
  }

  it('demo: the local demo page is read by its data-role markers', () => {
    const doc = loadFixture('demo');
    const found = findExchanges(doc, new URL('http://127.0.0.1:5173/demo.html'));
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({
      site: 'demo',
      question: 'What is the capital of France?',
      answer: 'The capital of France is Paris.\n\nIt is also the largest city in France.',
      streaming: false,
    });
    expect(found[0].answerElement.className).toBe('answer-text');
  });
});
