import type { SiteAdapter } from './types';

/**
 * Claude. Keys on the `data-is-streaming` wrapper around each answer (it also is the streaming
 * signal) and `data-testid="user-message"`. Least sure: the extended-thinking block, which
 * renders inside the response; stripped by its collapsible button and `[class*="thinking"]`.
 */
export const claude: SiteAdapter = {
  id: 'claude',
  name: 'Claude',
  matches: ['https://claude.ai/*'],
  user: ['[data-testid="user-message"]', '.font-user-message'],
  assistant: ['[data-is-streaming]', '.font-claude-response', '.font-claude-message'],
  answerText: ['.font-claude-response', '.font-claude-message', '.standard-markdown', '.progressive-markdown'],
  // The code block's language label is a plain div beside the <pre> (uncertain class names).
  strip: ['[class*="thinking"]', '[data-testid="action-bar"]', '.text-text-500.font-small', '.sr-only'],
  streaming: {
    answer: ['[data-is-streaming="true"]'],
    attributes: ['data-is-streaming'],
  },
};
