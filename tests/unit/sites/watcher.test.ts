// @vitest-environment happy-dom
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { watchAnswers, type AnswerWatcher, type WatcherStats } from '../../../sites/watcher';
import type { AdapterHealth, Exchange } from '../../../sites/types';

const DEMO_URL = new URL('http://127.0.0.1:5173/demo.html');
let url = DEMO_URL;
let watcher: AnswerWatcher | undefined;

/** The demo page's markup, built by hand (happy-dom does not run the page's script). */
function demoPage(pairs: Array<[string, string]> = []): HTMLElement {
  document.head.innerHTML = '<meta name="realign-demo" content="1">';
  document.body.innerHTML = '<main id="conversation"></main>';
  const main = document.getElementById('conversation')!;
  for (const [q, a] of pairs) {
    userTurn(q);
    const turn = assistantTurn();
    turn.querySelector('.answer-text')!.innerHTML = `<p>${a}</p>`;
    turn.dataset.streaming = 'false';
  }
  return main;
}

function userTurn(question: string): void {
  const turn = document.createElement('div');
  turn.className = 'turn user';
  turn.dataset.role = 'user';
  turn.innerHTML = `<div class="turn-text">${question}</div>`;
  document.getElementById('conversation')!.append(turn);
}

function assistantTurn(): HTMLElement {
  const turn = document.createElement('div');
  turn.className = 'turn assistant';
  turn.dataset.role = 'assistant';
  turn.dataset.streaming = 'true';
  turn.innerHTML = '<div class="answer-text"></div><div class="turn-actions"><button>Copy</button></div>';
  document.getElementById('conversation')!.append(turn);
  return turn;
}

/** Streams `words` into a new assistant turn, one word every `chunkMs` (fake) ms. */
async function streamAnswer(words: string[], chunkMs = 50): Promise<HTMLElement> {
  const turn = assistantTurn();
  const p = document.createElement('p');
  turn.querySelector('.answer-text')!.append(p);
  for (const [i, word] of words.entries()) {
    p.append(document.createTextNode(i === 0 ? word : ` ${word}`));
    await vi.advanceTimersByTimeAsync(chunkMs);
  }
  turn.dataset.streaming = 'false';
  return turn;
}

function start(options: Partial<Parameters<typeof watchAnswers>[0]> = {}): { reports: Exchange[]; health: AdapterHealth[] } {
  const reports: Exchange[] = [];
  const health: AdapterHealth[] = [];
  watcher = watchAnswers({
    root: document.body,
    url: () => url,
    quietMs: 1000,
    onFinished: (ex) => reports.push(ex),
    onHealth: (h) => health.push(h),
    ...options,
  });
  return { reports, health };
}

const WORDS = 'Paris is the capital and the largest city of France'.split(' ');

beforeEach(() => {
  vi.useFakeTimers();
  url = DEMO_URL;
});

afterEach(() => {
  watcher?.stop();
  watcher = undefined;
  vi.useRealTimers();
});

describe('watchAnswers', () => {
  it('reports a streamed answer exactly once, after it finished and the page was quiet', async () => {
    demoPage([['Old question?', 'Old answer.']]);
    const { reports } = start();
    await vi.advanceTimersByTimeAsync(6000); // past the load baseline window
    userTurn('What is the capital of France?');
    await streamAnswer(WORDS);
    expect(reports).toHaveLength(0); // none while streaming
    await vi.advanceTimersByTimeAsync(900);
    expect(reports).toHaveLength(0); // signal off, but not yet quiet
    await vi.advanceTimersByTimeAsync(1200);
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({
      site: 'demo',
      question: 'What is the capital of France?',
      answer: WORDS.join(' '),
      streaming: false,
    });
    await vi.advanceTimersByTimeAsync(10_000);
    expect(reports).toHaveLength(1);
  });

  it('still waits for the quiet period after a long stream (scans ran while it streamed)', async () => {
    demoPage();
    const stats: WatcherStats = { mutationCallbacks: 0, scans: 0, extractions: 0, busyMs: 0 };
    const { reports } = start({ stats });
    userTurn('Long?');
    await streamAnswer(Array.from({ length: 120 }, (_, i) => `w${i}`)); // 6 s, longer than the 3 s max wait
    expect(stats.scans).toBeGreaterThan(1);
    await vi.advanceTimersByTimeAsync(900);
    expect(reports).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1200);
    expect(reports).toHaveLength(1);
  });

  it('reports an answer that starts streaming right after load (streaming answers are never old)', async () => {
    demoPage();
    const { reports } = start();
    userTurn('Quick?');
    await streamAnswer(['Yes.']);
    await vi.advanceTimersByTimeAsync(2000);
    expect(reports.map((r) => r.answer)).toEqual(['Yes.']);
  });

  it('does not report answers already on the page, unless reportExisting', async () => {
    demoPage([['Q1?', 'A1.'], ['Q2?', 'A2.']]);
    const quiet = start();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(quiet.reports).toHaveLength(0);
    watcher!.stop();
    const loud = start({ reportExisting: true });
    await vi.advanceTimersByTimeAsync(10);
    expect(loud.reports.map((r) => [r.question, r.answer])).toEqual([['Q1?', 'A1.'], ['Q2?', 'A2.']]);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(loud.reports).toHaveLength(2);
  });

  it('reports once more when the answer is regenerated (element replaced)', async () => {
    demoPage();
    const { reports } = start();
    userTurn('Capital?');
    const first = await streamAnswer(WORDS);
    await vi.advanceTimersByTimeAsync(2000);
    first.remove();
    await streamAnswer(['Paris.']);
    await vi.advanceTimersByTimeAsync(2000);
    expect(reports.map((r) => [r.question, r.answer])).toEqual([
      ['Capital?', WORDS.join(' ')],
      ['Capital?', 'Paris.'],
    ]);
  });

  it('reports once more when a reported answer is edited in place, not when its markup changes without text', async () => {
    demoPage();
    const { reports } = start();
    userTurn('Capital?');
    const turn = await streamAnswer(['Paris.']);
    await vi.advanceTimersByTimeAsync(2000);
    const p = turn.querySelector('p')!;
    p.innerHTML = '<span>Paris.</span>'; // same text, new markup (e.g. syntax highlighting)
    await vi.advanceTimersByTimeAsync(2000);
    expect(reports).toHaveLength(1);
    p.textContent = 'Paris, France.';
    await vi.advanceTimersByTimeAsync(2000);
    expect(reports.map((r) => r.answer)).toEqual(['Paris.', 'Paris, France.']);
  });

  it('uses the nearest preceding user turn after an edited question', async () => {
    demoPage();
    const { reports } = start();
    userTurn('Frist question');
    await streamAnswer(['One.']);
    await vi.advanceTimersByTimeAsync(2000);
    document.querySelector('.turn-text')!.textContent = 'First question';
    document.querySelector('.answer-text p')!.textContent = 'One, edited.';
    await vi.advanceTimersByTimeAsync(2000);
    expect(reports.map((r) => r.question)).toEqual(['Frist question', 'First question']);
  });

  it('reports nothing after stop(), and stop() twice is harmless', async () => {
    demoPage();
    const { reports } = start();
    userTurn('Capital?');
    const streaming = streamAnswer(WORDS);
    await vi.advanceTimersByTimeAsync(120);
    watcher!.stop();
    await streaming;
    await vi.advanceTimersByTimeAsync(5000);
    watcher!.stop();
    expect(reports).toHaveLength(0);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('does not re-read the answer on every mutation while it streams', async () => {
    demoPage();
    const stats: WatcherStats = { mutationCallbacks: 0, scans: 0, extractions: 0, busyMs: 0 };
    const { reports } = start({ stats });
    userTurn('Long?');
    const words = Array.from({ length: 200 }, (_, i) => `w${i}`);
    await streamAnswer(words, 20);
    await vi.advanceTimersByTimeAsync(2000);
    expect(reports).toHaveLength(1);
    expect(stats.mutationCallbacks).toBeGreaterThanOrEqual(200);
    expect(stats.extractions).toBeLessThanOrEqual(2);
    expect(stats.scans).toBeLessThan(20);
  });

  it('follows single-page navigation: the new conversation’s old answers are not news, its new ones are', async () => {
    demoPage([['Q1?', 'A1.']]);
    const { reports } = start();
    await vi.advanceTimersByTimeAsync(6000);
    url = new URL('http://127.0.0.1:5173/demo.html?c=2');
    demoPage([['Other chat?', 'Other old answer.']]);
    await vi.advanceTimersByTimeAsync(3000);
    expect(reports).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(3000);
    userTurn('New question?');
    await streamAnswer(['New', 'answer.']);
    await vi.advanceTimersByTimeAsync(2000);
    expect(reports.map((r) => [r.question, r.answer])).toEqual([['New question?', 'New answer.']]);
  });

  it('reports nothing for an answer removed while streaming', async () => {
    demoPage();
    const errors: unknown[] = [];
    const { reports } = start({ onError: (e) => errors.push(e) });
    userTurn('Q?');
    const turn = assistantTurn();
    turn.querySelector('.answer-text')!.innerHTML = '<p>partial</p>';
    await vi.advanceTimersByTimeAsync(300);
    turn.remove();
    await vi.advanceTimersByTimeAsync(5000);
    expect(reports).toHaveLength(0);
    expect(errors).toEqual([]);
  });

  it('keeps working when onFinished throws, and never throws into the page', async () => {
    demoPage();
    const errors: unknown[] = [];
    let calls = 0;
    start({
      onFinished: () => {
        calls++;
        throw new Error('consumer bug');
      },
      onError: (e) => errors.push(e),
    });
    userTurn('A?');
    await streamAnswer(['one']);
    await vi.advanceTimersByTimeAsync(2000);
    userTurn('B?');
    await streamAnswer(['two']);
    await vi.advanceTimersByTimeAsync(2000);
    expect(calls).toBe(2);
    expect(errors).toHaveLength(2);
  });

  it('honours a custom quiet period', async () => {
    demoPage();
    const { reports } = start({ quietMs: 200 });
    userTurn('Q?');
    await streamAnswer(['fast']);
    await vi.advanceTimersByTimeAsync(250);
    expect(reports).toHaveLength(1);
  });

  it('scanNow() reports a finished answer without waiting for the debounce timer', async () => {
    demoPage();
    const { reports } = start({ quietMs: 500 });
    await vi.advanceTimersByTimeAsync(6000); // past the load baseline window
    userTurn('Q?');
    const turn = assistantTurn();
    turn.querySelector('.answer-text')!.innerHTML = '<p>done</p>';
    turn.dataset.streaming = 'false';
    vi.setSystemTime(Date.now() + 600); // time passes, no timer fires
    watcher!.scanNow();
    expect(reports.map((r) => r.answer)).toEqual(['done']);
  });
});

describe('adapter health', () => {
  it('reports a known site once per change of status: no conversation, then ok, then fallback', async () => {
    url = new URL('https://chatgpt.com/');
    document.head.innerHTML = '';
    document.body.innerHTML = '<main><div id="thread"></div></main>';
    const { health } = start();
    await vi.advanceTimersByTimeAsync(10);
    expect(health).toEqual([{ site: 'chatgpt', status: 'no-conversation' }]);
    const thread = document.getElementById('thread')!;
    thread.innerHTML =
      '<div data-message-author-role="user"><div class="whitespace-pre-wrap">Hi</div></div>' +
      '<div data-message-author-role="assistant"><div class="markdown"><p>Hello</p></div></div>';
    await vi.advanceTimersByTimeAsync(1500);
    for (let i = 0; i < 5; i++) {
      thread.append(document.createElement('span'));
      await vi.advanceTimersByTimeAsync(1500);
    }
    expect(health).toEqual([
      { site: 'chatgpt', status: 'no-conversation' },
      { site: 'chatgpt', status: 'ok' },
    ]);
    // The site renamed its role attribute: only the fallback selector still matches.
    thread.innerHTML =
      '<article data-turn="user"><div class="whitespace-pre-wrap">Hi</div></article>' +
      '<article data-turn="assistant"><div class="markdown"><p>Hello</p></div></article>';
    await vi.advanceTimersByTimeAsync(1500);
    expect(health[health.length - 1]).toEqual({ site: 'chatgpt', status: 'fallback' });
    expect(health).toHaveLength(3);
  });

  it('says nothing about pages no adapter knows', async () => {
    url = new URL('https://example.com/');
    document.body.innerHTML = '<p>hello</p>';
    const { health } = start();
    await vi.advanceTimersByTimeAsync(2000);
    expect(health).toEqual([]);
  });
});
