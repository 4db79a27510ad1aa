import type { SiteAdapter } from './types';

/**
 * Google AI Studio. Angular: each turn is an `ms-chat-turn` holding `.chat-turn-container.user`
 * or `.model`; text in `ms-cmark-node` / `.turn-content`; thoughts in `ms-thought-chunk`.
 * Least sure: the streaming signal (the Run button turning into Stop) and the toolbar/author
 * label classes.
 */
export const aistudio: SiteAdapter = {
  id: 'aistudio',
  name: 'Google AI Studio',
  matches: ['https://aistudio.google.com/*'],
  user: ['.chat-turn-container.user', 'ms-chat-turn [data-turn-role="User"]'],
  assistant: ['.chat-turn-container.model', 'ms-chat-turn [data-turn-role="Model"]'],
  answerText: ['.turn-content'],
  userText: ['.turn-content'],
  strip: ['ms-thought-chunk', 'ms-code-block .mat-expansion-panel-header', '.actions-container', '.author-label', '.turn-footer', 'mat-icon', '.cdk-visually-hidden'],
  streaming: {
    page: ['run-button button.stoppable', 'button[aria-label="Stop"]', 'ms-run-button button[aria-label*="Stop"]'],
  },
};
