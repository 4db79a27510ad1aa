// @vitest-environment happy-dom
import { beforeEach, describe, expect, it } from 'vitest';
import { exchangeFromSelection, lastExchange } from '../../../sites/index';
import { mountFixture } from './load';

const CHATGPT = new URL('https://chatgpt.com/c/1');
const UNKNOWN = new URL('https://example.com/page');

function select(node: Node, start: number, endNode: Node = node, end?: number): Selection {
  const range = document.createRange();
  range.setStart(node, start);
  range.setEnd(endNode, end ?? start);
  const sel = window.getSelection()!;
  sel.removeAllRanges();
  sel.addRange(range);
  return sel;
}

beforeEach(() => {
  document.head.innerHTML = '';
  document.body.innerHTML = '';
});

describe('exchangeFromSelection', () => {
  it('returns the whole exchange of the answer under the selection on a known site', () => {
    mountFixture('chatgpt');
    const li = document.querySelectorAll('[data-message-id="a2-regenerated"] li')[1];
    const ex = exchangeFromSelection(select(li.firstChild!, 0, li.lastChild!, 3), document, CHATGPT);
    expect(ex?.site).toBe('chatgpt');
    expect(ex?.question).toBe('And in JavaScript?');
    expect(ex?.answer.startsWith('Use array.reverse()')).toBe(true);
  });

  it('returns the exchange under a collapsed caret on a known site', () => {
    mountFixture('chatgpt');
    const p = document.querySelector('[data-message-id="a1"] .markdown p')!;
    const ex = exchangeFromSelection(select(p.firstChild!, 2), document, CHATGPT);
    expect(ex?.question).toBe('How do I reverse a list in Python?');
  });

  it('takes a selection on an unknown page as the answer, with no question', () => {
    document.body.innerHTML = '<article><p id="a">First para.</p><ul><li>item one</li></ul><p id="b">Tail</p></article>';
    const a = document.getElementById('a')!.firstChild!;
    const b = document.getElementById('b')!.firstChild!;
    const ex = exchangeFromSelection(select(a, 6, b, 4), document, UNKNOWN);
    expect(ex).toMatchObject({ site: 'generic', question: '', answer: 'para.\n\n- item one\n\nTail', streaming: false });
    expect(ex?.answerElement.tagName).toBe('ARTICLE');
  });

  it('takes the nearest preceding user turn as the question for a selection outside known answers', () => {
    mountFixture('chatgpt');
    const extra = document.createElement('div');
    extra.innerHTML = '<p>Loose text after the last question.</p>';
    document.querySelector('[data-testid="conversation-turn-5"]')!.after(extra);
    const t = extra.querySelector('p')!.firstChild!;
    const ex = exchangeFromSelection(select(t, 0, t, 10), document, CHATGPT);
    expect(ex).toMatchObject({ site: 'chatgpt', question: 'Thanks!', answer: 'Loose text' });
  });

  it('returns null for no selection, an empty one, or a bare caret on an unknown page', () => {
    document.body.innerHTML = '<p id="a">text</p>';
    expect(exchangeFromSelection(null, document, UNKNOWN)).toBeNull();
    window.getSelection()!.removeAllRanges();
    expect(exchangeFromSelection(window.getSelection(), document, UNKNOWN)).toBeNull();
    expect(exchangeFromSelection(select(document.getElementById('a')!.firstChild!, 1), document, UNKNOWN)).toBeNull();
  });
});

describe('lastExchange', () => {
  it('returns the last answer on a known site with its question', () => {
    mountFixture('claude');
    const ex = lastExchange(document, new URL('https://claude.ai/chat/1'));
    expect(ex).toMatchObject({ site: 'claude', question: 'Thanks!', answer: "You're welc", streaming: true });
  });

  it('finds answers on an unknown page by common role markers', () => {
    document.body.innerHTML =
      '<div data-message-author-role="user">Hi?</div><div data-message-author-role="assistant"><div class="markdown"><p>Hello!</p></div></div>';
    expect(lastExchange(document, UNKNOWN)).toMatchObject({ site: 'generic', question: 'Hi?', answer: 'Hello!' });
  });

  it('returns null on a page with no answers', () => {
    document.body.innerHTML = '<p>Nothing to see</p>';
    expect(lastExchange(document, UNKNOWN)).toBeNull();
  });
});
