import { describe, expect, test, vi } from 'vitest';
import { fakeBrowser } from 'wxt/testing/fake-browser';
import { requestCorrection } from '../../../entrypoints/content/correction-client';
import { CORRECTION_CHANNEL, serveTasks } from '../../../utils/task-port';
import { portPair } from '../../support/fake-ports';
import { boundedQuestion, MAX_ANSWER_CHARS, MAX_TEXT_CHARS, type CorrectionRequest, type CorrectionUpdate } from '../../../utils/messages';

describe('asking for a correction from the tab', () => {
  test('an answer over the limit is refused at once with advice, and nothing is sent', async () => {
    fakeBrowser.reset();
    const connect = vi.spyOn(fakeBrowser.runtime, 'connect');
    const updates: CorrectionUpdate[] = [];
    requestCorrection({ site: 'demo', question: 'Q', answer: 'x'.repeat(1_000_000) }, (update) => updates.push(update));
    await vi.waitFor(() => expect(updates).toHaveLength(1));
    expect(updates[0]).toEqual({ kind: 'error', message: expect.stringMatching(/too long to correct here \(1000 KB; the limit is 60 KB\)\. Select a part/) });
    expect(connect).not.toHaveBeenCalled();
  });

  test('an answer at the limit is sent, with its question bounded, and the port closes on the final update', async () => {
    fakeBrowser.reset();
    const [tab, background] = portPair(CORRECTION_CHANNEL.name);
    vi.spyOn(fakeBrowser.runtime, 'connect').mockReturnValue(tab as never);
    const received: CorrectionRequest[] = [];
    serveTasks(background, CORRECTION_CHANNEL, (request, task) => {
      received.push(request);
      task.emit({ kind: 'done', text: 'y', notes: [], tokens: 1, ms: 1 });
    });
    const closed = new Promise<void>((resolve) => background.onDisconnect.addListener(() => resolve()));
    const updates: CorrectionUpdate[] = [];
    const answer = 'x'.repeat(MAX_ANSWER_CHARS);
    requestCorrection({ site: 'demo', question: 'q'.repeat(MAX_TEXT_CHARS), answer }, (update) => updates.push(update));
    await closed;
    expect(received).toHaveLength(1);
    expect(received[0].answer).toBe(answer);
    expect(received[0].question.length).toBeLessThanOrEqual(MAX_TEXT_CHARS / 2);
    expect(updates.map((update) => update.kind)).toEqual(['done']);
  });

  test('a question too long for a message keeps its beginning and its end', () => {
    const question = `Please look at this. ${'filler '.repeat(100_000)}So what is wrong?`;
    const bounded = boundedQuestion(question);
    expect(bounded.length).toBeLessThanOrEqual(MAX_TEXT_CHARS / 2);
    expect(bounded.startsWith('Please look at this.')).toBe(true);
    expect(bounded.endsWith('So what is wrong?')).toBe(true);
    expect(bounded).toContain('\n[…]\n');
    expect(boundedQuestion('short')).toBe('short');
  });
});
