// @vitest-environment happy-dom
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { watchAnswers, type AnswerWatcher } from '../../../sites/watcher';
import type { AdapterHealth, Exchange } from '../../../sites/types';

let watcher: AnswerWatcher | undefined;
let url = new URL('https://chatgpt.com/c/1');

function start(options: Partial<Parameters<typeof watchAnswers>[0]> = {}): { reports: Exchange[]; health: AdapterHealth[]; errors: unknown[] } {
  const reports: Exchange[] = [];
  const health: AdapterHealth[] = [];
  const errors: unknown[] = [];
  watcher = watchAnswers({
    root: document.body,
    url: () => url,
    quietMs: 1000,
    onFinished: (ex) => reports.push(ex),
    onHealth: (h) => health.push(h),
    onError: (e) => errors.push(e),
    ...options,
  });
  return { reports, health, errors };
}

/** ChatGPT after a redesign its adapter does not know: hashed classes, no data attributes, only structure. */
function redesignedChatgpt(pairs: Array<[string, string]>): void {
  document.body.innerHTML =
    `<main><div class="x1" id="thread">${pairs.map(([q, a]) => `<article class="x2"><div class="x3">${q}</div></article><article class="x2"><div class="x4"><p>${a}</p></div></article>`).join('')}</div></main>` +
    '<form id="composer"><textarea></textarea></form>';
}

/** Streams an answer into a new turn of the redesigned page while a stop button shows, then removes the button. */
async function streamRedesigned(question: string, words: string[]): Promise<void> {
  const thread = document.getElementById('thread')!;
  thread.insertAdjacentHTML('beforeend', `<article class="x2"><div class="x3">${question}</div></article><article class="x2"><div class="x4"><p></p></div></article>`);
  const stop = document.createElement('button');
  stop.setAttribute('aria-label', 'Stop streaming');
  document.getElementById('composer')!.append(stop);
  const p = thread.lastElementChild!.querySelector('p')!;
  for (const [i, word] of words.entries()) {
    p.append(document.createTextNode(i === 0 ? word : ` ${word}`));
    await vi.advanceTimersByTimeAsync(50);
  }
  stop.remove();
}

beforeEach(() => {
  vi.useFakeTimers();
  url = new URL('https://chatgpt.com/c/1');
  document.head.innerHTML = '';
  document.body.innerHTML = '';
});

afterEach(() => {
  watcher?.stop();
  watcher = undefined;
  vi.useRealTimers();
});

describe('watcher falls back to the shape adapter', () => {
  it("on a known site whose adapter finds nothing: health 'shape', old answers not news, new ones reported by shape", async () => {
    redesignedChatgpt([['Old question?', 'Old answer.']]);
    const { reports, health, errors } = start();
    await vi.advanceTimersByTimeAsync(6000);
    expect(health).toEqual([{ site: 'chatgpt', status: 'shape' }]);
    expect(reports).toEqual([]);
    await streamRedesigned('What is the capital of Peru?', ['Lima', 'is', 'the', 'capital.']);
    expect(reports).toEqual([]);
    await vi.advanceTimersByTimeAsync(2000);
    expect(reports.map((r) => [r.site, r.question, r.answer, r.streaming])).toEqual([['shape', 'What is the capital of Peru?', 'Lima is the capital.', false]]);
    expect(health).toHaveLength(1);
    expect(errors).toEqual([]);
  });

  it("flags a stale adapter (health 'stale') when shape sees answers it misses, runs on shape, and goes back once it agrees", async () => {
    const user = (q: string) => `<div data-message-author-role="user"><div class="whitespace-pre-wrap">${q}</div></div>`;
    const renamed = (a: string) => `<div data-author="bot"><div class="markdown"><p>${a}</p></div></div>`;
    const known = (a: string) => `<div data-message-author-role="assistant"><div class="markdown"><p>${a}</p></div></div>`;
    // The site renamed its assistant marker; only the last answer still carries the old one.
    document.body.innerHTML = `<main><div id="thread">${user('Q1')}${renamed('A1')}${user('Q2')}${renamed('A2')}${user('Q3')}${known('A3')}</div></main>`;
    const { reports, health } = start();
    await vi.advanceTimersByTimeAsync(6000);
    expect(health).toEqual([{ site: 'chatgpt', status: 'stale' }]);
    expect(reports).toEqual([]);
    // A new answer in the new markup: the adapter would miss it, the shape adapter reports it.
    const thread = document.getElementById('thread')!;
    thread.insertAdjacentHTML('beforeend', user('Q4') + renamed(''));
    const p = thread.lastElementChild!.querySelector('p')!;
    for (const word of ['Fresh', 'answer.']) {
      p.append(document.createTextNode(`${p.textContent ? ' ' : ''}${word}`));
      await vi.advanceTimersByTimeAsync(50);
    }
    await vi.advanceTimersByTimeAsync(2000);
    expect(reports.map((r) => [r.site, r.question, r.answer])).toEqual([['shape', 'Q4', 'Fresh answer.']]);
    // The site goes back to the markup its adapter knows (re-rendering the thread): ok again, nothing re-reported.
    thread.innerHTML = `${user('Q1')}${known('A1')}${user('Q2')}${known('A2')}${user('Q3')}${known('A3')}${user('Q4')}${known('Fresh answer.')}`;
    await vi.advanceTimersByTimeAsync(12_000);
    expect(health).toEqual([
      { site: 'chatgpt', status: 'stale' },
      { site: 'chatgpt', status: 'ok' },
    ]);
    expect(reports).toHaveLength(1);
  });

  it("keeps health 'ok' when the shape cross-check agrees with the adapter (the site fixture)", async () => {
    const html = readFileSync(resolve(__dirname, '../../fixtures/sites/chatgpt.html'), 'utf8');
    document.body.innerHTML = new DOMParser().parseFromString(html, 'text/html').body.innerHTML;
    const { health } = start();
    await vi.advanceTimersByTimeAsync(3000);
    expect(health).toEqual([{ site: 'chatgpt', status: 'ok' }]);
  });
});

describe('watcher on a site the person enabled by hand (no adapter knows it)', () => {
  it("reads the page by shape: health 'shape' for the generic site, old answers not news, a new answer reported", async () => {
    url = new URL('https://chat.example.org/c/42');
    const html = readFileSync(resolve(__dirname, '../../fixtures/sites/oss/open-webui.html'), 'utf8');
    document.body.innerHTML = new DOMParser().parseFromString(html, 'text/html').body.innerHTML;
    const { reports, health } = start();
    await vi.advanceTimersByTimeAsync(6000);
    expect(health).toEqual([{ site: 'generic', status: 'shape' }]);
    expect(reports).toEqual([]);
    // A new exchange, as Open WebUI renders it: the person's bubble, then the answer growing.
    const list = document.getElementById('message-1e9b3d55')!.closest('.w-full:not(.flex)')!;
    const userTurn = list.children[0].cloneNode(true) as Element;
    userTurn.querySelector('p')!.textContent = 'One more thing: is it fast?';
    const answerTurn = list.children[1].cloneNode(true) as Element;
    const content = answerTurn.querySelector('[id$="-content-container"]')!;
    content.innerHTML = '<p dir="auto"></p>';
    list.append(userTurn, answerTurn);
    const p = content.querySelector('p')!;
    for (const word of ['Yes,', 'it', 'costs', 'nothing', 'extra.']) {
      p.append(document.createTextNode(`${p.textContent ? ' ' : ''}${word}`));
      await vi.advanceTimersByTimeAsync(50);
    }
    await vi.advanceTimersByTimeAsync(2000);
    expect(reports.map((r) => [r.site, r.question, r.answer])).toEqual([['shape', 'One more thing: is it fast?', 'Yes, it costs nothing extra.']]);
    expect(reports[0].answerElement).toBe(content);
  });
});

describe('watcher teardown by AbortSignal', () => {
  it('stops on abort: no report for an answer that finishes afterwards, no timer left', async () => {
    redesignedChatgpt([]);
    const controller = new AbortController();
    const { reports } = start({ signal: controller.signal });
    await vi.advanceTimersByTimeAsync(6000);
    const streaming = streamRedesigned('Q?', ['one', 'two', 'three']);
    await vi.advanceTimersByTimeAsync(60);
    controller.abort();
    await streaming;
    await vi.advanceTimersByTimeAsync(5000);
    expect(reports).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
    watcher!.stop(); // harmless after abort
  });

  it('does nothing at all when the signal is already aborted', async () => {
    redesignedChatgpt([['Old?', 'Old.']]);
    const { reports, health } = start({ signal: AbortSignal.abort(), reportExisting: true });
    await vi.advanceTimersByTimeAsync(1000);
    await streamRedesigned('Q?', ['done']);
    await vi.advanceTimersByTimeAsync(3000);
    expect(reports).toEqual([]);
    expect(health).toEqual([]);
    expect(vi.getTimerCount()).toBe(0);
  });
});
