import type { SiteAdapter } from './types';

/**
 * Mistral Le Chat. Keys on `data-message-author-role` (as ChatGPT) with the answer in
 * `.markdown-container-style` and the question in `.select-text` (seen in a 2025 export
 * userscript). Least sure: the streaming signal (none known; quiet period only).
 */
export const mistral: SiteAdapter = {
  id: 'mistral',
  name: 'Mistral Le Chat',
  matches: ['https://chat.mistral.ai/*'],
  user: ['[data-message-author-role="user"]', '[data-role="user"]'],
  assistant: ['[data-message-author-role="assistant"]', '[data-role="assistant"]'],
  answerText: ['.markdown-container-style', '.prose', '[class*="markdown"]'],
  userText: ['.select-text'],
  strip: ['span.text-xs.capitalize', '[class*="citation"]', '[class*="reference"]', '.sr-only'],
  streaming: {
    page: ['button[aria-label="Stop generation"]', 'button[aria-label="Stop"]'],
  },
};
