import type { SiteAdapter } from './types';

/**
 * Microsoft Copilot (the 2024+ copilot.microsoft.com app). Keys on `data-content="user-message"` /
 * `"ai-message"` (seen in several public userscripts). Least sure: the streaming signal (stop
 * button label), so the quiet period does most of the work; and the sr-only author labels.
 */
export const copilot: SiteAdapter = {
  id: 'copilot',
  name: 'Microsoft Copilot',
  matches: ['https://copilot.microsoft.com/*'],
  user: ['[data-content="user-message"]', '[class*="user-message"]'],
  assistant: ['[data-content="ai-message"]', '[class*="ai-message"]'],
  answerText: ['[class*="markdown"]'],
  strip: ['[data-testid="code-block-header"]', '[data-testid*="citation"]', '[class*="citation"]', '.sr-only', 'h2.sr-only', 'h3.sr-only'],
  streaming: {
    page: ['button[aria-label="Stop responding"]', 'button[data-testid="stop-button"]', '[data-testid="typing-indicator"]'],
  },
};
