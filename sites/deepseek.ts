import type { SiteAdapter } from './types';

/**
 * DeepSeek. Keys on `.ds-markdown` (the rendered answer); the reasoning ("Thought for 5 seconds"
 * and its text) also uses `.ds-markdown` inside `.ds-think-content`, so that is excluded. User
 * turns have only hashed classes: `.fbb737a4` (seen in userscripts) then `[class*="user"]`.
 * Least sure: the user turn selector and any streaming signal (none used; quiet period only).
 */
export const deepseek: SiteAdapter = {
  id: 'deepseek',
  name: 'DeepSeek',
  matches: ['https://chat.deepseek.com/*'],
  user: ['.fbb737a4', '.ds-message [class*="user"]', '[data-role="user"]'],
  assistant: ['.ds-markdown', '.ds-message .markdown'],
  notInside: ['.ds-think-content'],
  strip: ['.md-code-block-banner-wrap', '.ds-markdown-cite', '[class*="citation"]', '.ds-think-content'],
  streaming: {
    answer: ['.ds-markdown--streaming', '[data-streaming="true"]'],
  },
};
