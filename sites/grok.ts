import type { SiteAdapter } from './types';

/**
 * Grok (grok.com). Messages are `.message-bubble`s inside a row aligned `items-end` (user) or
 * `items-start` (assistant); the answer text is `.response-content-markdown`. Least sure: all of
 * it (Tailwind-only markup, no semantic attributes); no streaming signal known, quiet period only.
 */
export const grok: SiteAdapter = {
  id: 'grok',
  name: 'Grok',
  matches: ['https://grok.com/*'],
  user: ['div.items-end .message-bubble', '[data-testid="user-message"]'],
  // User bubbles render markdown too, so the answer is keyed on the row's alignment as well.
  assistant: ['div.items-start .response-content-markdown', 'div.items-start .message-bubble', '[data-testid="assistant-message"]'],
  userText: ['.response-content-markdown'],
  strip: ['.thinking-container', '.not-prose .font-mono.text-xs', '[class*="citation"]', '.sr-only'],
  streaming: {
    page: ['button[aria-label="Stop model response"]', 'button[aria-label="Stop"]'],
  },
};
