import type { SiteAdapter } from './types';

/**
 * Perplexity. Keys on the answer's `div[id^="markdown-content-"]`; the query is the `h1` of the
 * same thread entry (class `group/query`). Citations are `.citation` chips. Least sure: the
 * query selector (Tailwind classes) and the stop button's label.
 */
export const perplexity: SiteAdapter = {
  id: 'perplexity',
  name: 'Perplexity',
  matches: ['https://www.perplexity.ai/*', 'https://perplexity.ai/*'],
  user: ['[class*="group/query"]', 'h1.break-words', 'div[data-testid="user-query"]'],
  assistant: ['div[id^="markdown-content-"]', '.prose'],
  answerText: ['.prose'],
  strip: ['.citation', '[class*="citation"]', 'a[data-pplx-citation]', '.codeWrapper > :not(pre)', '.sr-only'],
  streaming: {
    page: ['button[aria-label="Stop generating response"]', 'button[data-testid="stop-generating-response-button"]'],
  },
};
