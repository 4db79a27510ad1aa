// @vitest-environment happy-dom
import { afterEach, beforeEach, expect, test, vi } from 'vitest';
import { watchAnswers, type AnswerWatcher } from '../../../sites/watcher';
import type { Exchange } from '../../../sites/types';

// A short answer that streams and finishes within one throttle window of the watcher's
// streaming-signal check, shortly after load (while old answers are being baselined), is still
// a live answer: the site flipped its streaming attribute from "true" to "false".

let watcher: AnswerWatcher | undefined;

beforeEach(() => {
  vi.useFakeTimers();
  document.head.innerHTML = '<meta name="realign-demo" content="1">';
  document.body.innerHTML =
    '<main id="conversation"><div class="turn user" data-role="user"><div class="turn-text">Old question?</div></div>' +
    '<div class="turn assistant" data-role="assistant" data-streaming="false"><div class="answer-text"><p>Old answer.</p></div></div></main>';
});
afterEach(() => {
  watcher?.stop();
  watcher = undefined;
  vi.useRealTimers();
});

test('an answer streamed entirely within one signal-check window after an unrelated mutation is reported', async () => {
  const reports: Exchange[] = [];
  watcher = watchAnswers({ root: document.body, url: () => new URL('http://127.0.0.1:5173/demo.html'), quietMs: 1000, onFinished: (ex) => reports.push(ex) });
  await vi.advanceTimersByTimeAsync(10);
  const main = document.getElementById('conversation')!;
  // Some unrelated page activity first: it uses up the forced signal check.
  main.append(document.createElement('div'));
  await vi.advanceTimersByTimeAsync(50);
  const user = document.createElement('div');
  user.className = 'turn user';
  user.dataset.role = 'user';
  user.innerHTML = '<div class="turn-text">Is it fun?</div>';
  const turn = document.createElement('div');
  turn.className = 'turn assistant';
  turn.dataset.role = 'assistant';
  turn.dataset.streaming = 'true';
  turn.innerHTML = '<div class="answer-text"><p></p></div>';
  main.append(user, turn);
  const p = turn.querySelector('p')!;
  for (const word of ['It', ' is', ' never', ' fun.']) {
    p.append(document.createTextNode(word));
    await vi.advanceTimersByTimeAsync(20);
  }
  turn.dataset.streaming = 'false';
  await vi.advanceTimersByTimeAsync(3000);
  expect(reports.map((r) => [r.question, r.answer])).toEqual([['Is it fun?', 'It is never fun.']]);
});

test('old answers rendered at load are still not reported (the baseline holds)', async () => {
  const reports: Exchange[] = [];
  watcher = watchAnswers({ root: document.body, url: () => new URL('http://127.0.0.1:5173/demo.html'), quietMs: 1000, onFinished: (ex) => reports.push(ex) });
  // A page that renders another finished answer shortly after load (no streaming flip).
  await vi.advanceTimersByTimeAsync(100);
  document.getElementById('conversation')!.insertAdjacentHTML(
    'beforeend',
    '<div class="turn user" data-role="user"><div class="turn-text">Q2?</div></div><div class="turn assistant" data-role="assistant" data-streaming="false"><div class="answer-text"><p>A2.</p></div></div>',
  );
  await vi.advanceTimersByTimeAsync(3000);
  expect(reports).toEqual([]);
});
