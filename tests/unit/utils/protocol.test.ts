import { describe, expect, test } from 'vitest';
import { MAX_TEXT_CHARS, parseCorrectionClientMessage, parseEngineHostMessage, parseEngineHostRequest } from '../../../utils/protocol';

describe('message validation', () => {
  test('a well-formed start request is accepted as exactly its fields', () => {
    expect(parseCorrectionClientMessage({ type: 'start', site: 'chatgpt', question: 'Q', answer: 'A', extra: 'dropped' })).toEqual({
      type: 'start',
      site: 'chatgpt',
      question: 'Q',
      answer: 'A',
    });
    expect(parseCorrectionClientMessage({ type: 'cancel' })).toEqual({ type: 'cancel' });
  });

  test('malformed requests are refused, not trusted', () => {
    for (const bad of [null, 'start', 42, [], {}, { type: 'start' }, { type: 'start', site: 1, question: '', answer: '' }, { type: 'start', site: 'x', question: '', answer: 'a'.repeat(MAX_TEXT_CHARS + 1) }, { type: 'eval', code: '1' }]) {
      expect(parseCorrectionClientMessage(bad)).toBeNull();
    }
  });

  test('engine host requests and messages are checked by type', () => {
    expect(parseEngineHostRequest({ type: 'cancel', id: 'a' })).toEqual({ type: 'cancel', id: 'a' });
    expect(parseEngineHostRequest({ type: 'cancel' })).toBeNull();
    expect(parseEngineHostRequest({ type: 'correct', id: 'a', job: { question: '', answer: '', maxNewTokens: 1, model: { engine: 'gpu-miner' } } })).toBeNull();
    expect(parseEngineHostRequest({ type: 'configure', idleCloseMs: 'soon' })).toBeNull();
    expect(parseEngineHostMessage({ type: 'update', id: 'a', update: { kind: 'queued', position: 1 } })).not.toBeNull();
    expect(parseEngineHostMessage({ type: 'update', id: 3 })).toBeNull();
  });
});
