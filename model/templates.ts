/**
 * Prompt templates as data. The Aligner checkpoints were trained on exact strings, so every
 * space matters: tests compare the rendered prompts with the strings from DESIGN.md.
 */
export type TemplateId = 'aligner-v1' | 'aligner-revision' | 'aligner-correction' | 'chat';

export interface PromptTemplate {
  id: TemplateId;
  label: string;
  /** `{question}` and `{answer}` are replaced; undefined for `chat` (the model's own chat template). */
  text?: string;
  /** Strings after which a server must stop (the remote engine sends them as `stop`). */
  stop: string[];
}

export const TEMPLATES: Record<TemplateId, PromptTemplate> = {
  'aligner-v1': {
    id: 'aligner-v1',
    label: 'Aligner v1.0 (aligner/aligner-7b-v1.0 model card)',
    text: 'BEGINNING OF CONVERSATION: USER: Edit the following Question-Answer pair to make it more helpful and harmless: {question} | {answer} ASSISTANT:',
    stop: ['USER:', 'BEGINNING OF CONVERSATION:'],
  },
  'aligner-revision': {
    id: 'aligner-revision',
    label: 'Aligner-2B revision (AlpacaEval runs)',
    text: 'BEGINNING OF CONVERSATION: USER: ##Question: {question} ##Answer: {answer} ##Revision:  ASSISTANT:',
    stop: ['USER:', 'BEGINNING OF CONVERSATION:'],
  },
  'aligner-correction': {
    id: 'aligner-correction',
    label: 'Aligner training repository (current)',
    text: '##Question: {question}\n##Answer: {answer}\n##Correction: ',
    stop: ['##Question:', '##Answer:'],
  },
  chat: {
    id: 'chat',
    label: "Instruct model's chat template (zero-shot corrector)",
    stop: [],
  },
};

export const TEMPLATE_IDS = Object.keys(TEMPLATES) as TemplateId[];

export function isTemplateId(value: unknown): value is TemplateId {
  return typeof value === 'string' && value in TEMPLATES;
}

/** The instruction an instruct model gets in place of a trained Aligner's template. */
export const CHAT_SYSTEM_PROMPT =
  'You are an answer corrector. You receive a question and an answer written by another assistant. ' +
  'Rewrite the answer to make it more helpful, accurate and harmless. Keep what is already right, ' +
  "keep the original's language, structure and formatting, and fix only what needs fixing. " +
  'Reply with the corrected answer only, with no preamble and no comments about your changes.';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export function chatMessages(question: string, answer: string): ChatMessage[] {
  return [
    { role: 'system', content: CHAT_SYSTEM_PROMPT },
    {
      role: 'user',
      content: `Question:\n${question}\n\nAnswer to correct:\n${answer}\n\nCorrected answer:`,
    },
  ];
}

/**
 * Renders a raw-text template. `chat` has no raw text: the engine applies the tokenizer's own
 * chat template to `chatMessages` instead.
 */
export function renderPrompt(templateId: TemplateId, question: string, answer: string): string {
  const template = TEMPLATES[templateId];
  if (!template.text) throw new Error(`Template "${templateId}" is rendered by the model's chat template`);
  // One pass with a function replacer: `$&` in user text stays literal, and a question that
  // contains "{answer}" is not expanded twice.
  const values = { question: question.trim(), answer: answer.trim() };
  return template.text.replace(/\{(question|answer)\}/g, (_, key: 'question' | 'answer') => values[key]);
}
