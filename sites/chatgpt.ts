import type { SiteAdapter } from './types';

/**
 * ChatGPT. Keys on `data-message-author-role` (stable for years); `article[data-turn]` is the
 * 2025 turn wrapper, kept as a fallback. Streaming: the composer's stop button; older builds put
 * `.result-streaming` on the markdown. Least sure: the reasoning header ("Thought for 5s") markup,
 * which sits outside `.markdown` today and is stripped by class/testid in case it moves inside.
 */
export const chatgpt: SiteAdapter = {
  id: 'chatgpt',
  name: 'ChatGPT',
  matches: ['https://chatgpt.com/*', 'https://chat.openai.com/*'],
  user: ['[data-message-author-role="user"]', 'article[data-turn="user"]'],
  assistant: ['[data-message-author-role="assistant"]', 'article[data-turn="assistant"]', '.agent-turn'],
  answerText: ['.markdown', '.prose'],
  userText: ['.whitespace-pre-wrap'],
  strip: [
    '[data-testid="webpage-citation-pill"]',
    '[data-testid*="citation"]',
    '[class*="citation"]',
    '[data-testid="thinking-header"]',
    '.sr-only',
  ],
  streaming: {
    page: ['[data-testid="stop-button"]', 'button[aria-label="Stop streaming"]'],
    answer: ['.result-streaming', '.streaming-animation'],
  },
};
