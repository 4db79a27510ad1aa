import type { SiteAdapter } from './types';

/**
 * Poe. CSS-module class names with a build hash (`Message_botMessageBubble__abc12`), matched by
 * prefix. Least sure: the streaming signal (the stop button's class) and the module names, which
 * change with redesigns.
 */
export const poe: SiteAdapter = {
  id: 'poe',
  name: 'Poe',
  matches: ['https://poe.com/*'],
  user: ['[class*="Message_humanMessageBubble__"]', '[class*="Message_rightSideMessageBubble__"]'],
  assistant: ['[class*="Message_botMessageBubble__"]', '[class*="Message_leftSideMessageBubble__"]'],
  answerText: ['[class*="Markdown_markdownContainer__"]'],
  strip: ['[class*="MarkdownCodeBlock_codeHeader__"]', '[class*="MessageAttribution"]', '[class*="Message_messageMetadata"]', '.sr-only'],
  streaming: {
    page: ['[class*="ChatStopMessageButton_"]', 'button[aria-label="Stop message"]'],
    answer: ['[class*="Message_messageTextContainer__"][class*="loading"]'],
  },
};
