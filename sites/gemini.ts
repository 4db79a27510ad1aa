import type { SiteAdapter } from './types';

/**
 * Gemini. Keys on the Angular custom elements `user-query` / `model-response`; text in
 * `message-content .markdown`. Least sure: the streaming signal (stop button label, and
 * `aria-busy` on the message) and the exact name of the sources chip elements.
 */
export const gemini: SiteAdapter = {
  id: 'gemini',
  name: 'Gemini',
  matches: ['https://gemini.google.com/*'],
  user: ['user-query', '.user-query-container'],
  assistant: ['model-response', '.model-response-text'],
  answerText: ['message-content .markdown', 'message-content', '.markdown'],
  userText: ['.query-text', '.query-content'],
  strip: [
    'model-thoughts',
    'sources-carousel-inline',
    'sources-carousel',
    'source-footnote',
    '.source-inline-chip',
    '.code-block-decoration',
    'message-actions',
    '.cdk-visually-hidden',
  ],
  streaming: {
    page: ['button[aria-label="Stop response"]', '.send-button.stop'],
    answer: ['[aria-busy="true"]'],
    attributes: ['aria-busy'],
  },
};
