// @vitest-environment happy-dom
import { beforeEach, describe, expect, it } from 'vitest';
import { findExchanges } from '../../../sites/index';

const CHATGPT = new URL('https://chatgpt.com/c/1');

function chatgptTurns(pairs: Array<[string, string]>): string {
  return pairs
    .map(
      ([q, a], i) =>
        `<article data-testid="conversation-turn-${2 * i + 1}"><div data-message-author-role="user"><div class="whitespace-pre-wrap">${q}</div></div></article>` +
        `<article data-testid="conversation-turn-${2 * i + 2}"><div data-message-author-role="assistant"><div class="markdown">${a}</div></div></article>`,
    )
    .join('');
}

beforeEach(() => {
  document.body.innerHTML = '';
});

describe('findExchanges on unusual pages', () => {
  it('returns [] for a known site with no conversation', () => {
    document.body.innerHTML = '<main><h1>What can I help with?</h1><textarea></textarea></main>';
    expect(findExchanges(document, CHATGPT)).toEqual([]);
  });

  it('pairs every turn of a 200-turn conversation in order', () => {
    const pairs = Array.from({ length: 100 }, (_, i): [string, string] => [`Question ${i}?`, `<p>Answer ${i}.</p>`]);
    document.body.innerHTML = chatgptTurns(pairs);
    const found = findExchanges(document, CHATGPT);
    expect(found).toHaveLength(100);
    expect(found[0]).toMatchObject({ question: 'Question 0?', answer: 'Answer 0.' });
    expect(found[57]).toMatchObject({ question: 'Question 57?', answer: 'Answer 57.' });
    expect(found[99]).toMatchObject({ question: 'Question 99?', answer: 'Answer 99.' });
  });

  it('reads a 100 KB answer whole', () => {
    const para = `<p>${'word '.repeat(199)}word</p>`; // 1,000 characters of text
    document.body.innerHTML = chatgptTurns([['Long?', para.repeat(100)]]);
    const [ex] = findExchanges(document, CHATGPT);
    expect(ex.answer.length).toBe(100 * 999 + 99 * 2);
    expect(ex.answer.split('\n\n')).toHaveLength(100);
  });

  it('ignores nested iframes without crashing', () => {
    document.body.innerHTML =
      chatgptTurns([['Q?', '<p>Before</p><iframe srcdoc="<p>inside</p>"></iframe><p>After</p>']]) +
      '<iframe srcdoc="<iframe></iframe>"></iframe>';
    const [ex] = findExchanges(document, CHATGPT);
    expect(ex.answer).toBe('Before\n\nAfter');
  });

  it('reads an answer that is only code', () => {
    document.body.innerHTML = chatgptTurns([['Code?', '<pre><code class="language-sh">ls -la\n</code></pre>']]);
    expect(findExchanges(document, CHATGPT)[0].answer).toBe('```sh\nls -la\n```');
  });

  it('keeps right-to-left questions and answers intact', () => {
    document.body.innerHTML = chatgptTurns([['ما هي عاصمة فرنسا؟', '<p dir="rtl">عاصمة فرنسا هي باريس.</p>']]);
    expect(findExchanges(document, CHATGPT)[0]).toMatchObject({ question: 'ما هي عاصمة فرنسا؟', answer: 'عاصمة فرنسا هي باريس.' });
  });

  it('gives an answer with no preceding user turn an empty question', () => {
    document.body.innerHTML = '<div data-message-author-role="assistant"><div class="markdown"><p>Welcome!</p></div></div>';
    expect(findExchanges(document, CHATGPT)[0]).toMatchObject({ question: '', answer: 'Welcome!' });
  });

  it('pairs consecutive answers (regenerations shown side by side) with the same question', () => {
    document.body.innerHTML =
      '<div data-message-author-role="user">Q</div>' +
      '<div data-message-author-role="assistant"><div class="markdown">A</div></div>' +
      '<div data-message-author-role="assistant"><div class="markdown">B</div></div>';
    expect(findExchanges(document, CHATGPT).map((e) => [e.question, e.answer])).toEqual([['Q', 'A'], ['Q', 'B']]);
  });

  it('returns [] (and does not throw) for an odd root', () => {
    expect(findExchanges(document.createDocumentFragment(), CHATGPT)).toEqual([]);
  });
});
