import { DEMO_MATCHES } from '../utils/build-constants';
import type { SiteAdapter } from './types';

/**
 * The local demo chat page (tests/fixtures/sites/demo.html), served from 127.0.0.1 / localhost.
 * Claims a local page only when the demo's markers are present, so other local pages fall
 * back to the generic adapter.
 */
export const demo: SiteAdapter = {
  id: 'demo',
  name: 'Realign demo chat',
  matches: DEMO_MATCHES,
  requires: ['meta[name="realign-demo"]', '[data-role="assistant"]'],
  user: ['[data-role="user"]'],
  assistant: ['[data-role="assistant"]'],
  answerText: ['.answer-text'],
  userText: ['.turn-text'],
  strip: ['.turn-actions', '.citation'],
  streaming: {
    answer: ['[data-streaming="true"]'],
    attributes: ['data-streaming'],
  },
};
