import type { SiteAdapter } from './types';

/**
 * HuggingChat (huggingface/chat-ui, SvelteKit). Keys on `data-message-role` with the text in
 * `.prose`; only under huggingface.co/chat. Least sure: the streaming signal ("Stop generating"
 * button label) and the reasoning block markup (stripped as `details`/`[class*="reasoning"]`).
 */
export const huggingchat: SiteAdapter = {
  id: 'huggingchat',
  name: 'HuggingChat',
  matches: ['https://huggingface.co/chat*'],
  pathPrefix: '/chat',
  user: ['[data-message-role="user"]', '[data-message-type="user"]'],
  assistant: ['[data-message-role="assistant"]', '[data-message-type="assistant"]'],
  answerText: ['.prose'],
  userText: ['p', '.whitespace-break-spaces'],
  strip: ['details', '[class*="reasoning"]', '.sr-only'],
  streaming: {
    page: ['button[aria-label="Stop generating"]', 'button[title="Stop generating"]'],
  },
};
