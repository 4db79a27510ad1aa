/**
 * Prompt templates as data. The Aligner checkpoints were trained on exact strings, so every
 * space matters: tests compare the rendered prompts with the strings from DESIGN.md.
 */
export type TemplateId = 'aligner-v1' | 'aligner-revision' | 'aligner-correction' | 'metaaligner-query' | 'metaaligner-context' | 'chat';

/** An objective a MetaAligner can be asked to improve: its id, a label, and its text in the prompt. */
export interface Aspect {
  id: string;
  label: string;
  /** "Name: description", exactly as the model reads it. */
  text: string;
  /** The model was trained on it (others it follows from their description alone). */
  trained: boolean;
}

export interface PromptTemplate {
  id: TemplateId;
  label: string;
  /** `{question}`, `{answer}` (and `{aspects}`) are replaced; undefined for `chat` (the model's own chat template). */
  text?: string;
  /** Strings after which a server must stop (the remote engine sends them as `stop`). */
  stop: string[];
  /** Templates with `{aspects}`: the objectives a person may choose from; the trained ones are the default. */
  aspects?: Aspect[];
}

/**
 * Objectives MetaAligner follows from their description alone (unseen in training), as its
 * README defines them (https://github.com/SteveKGYang/MetaAligner, "Objective Descriptions").
 */
const UNSEEN_ASPECTS: Aspect[] = [
  { id: 'factual', label: 'Factual', text: 'Factual: The response should be factually correct and avoid hallucinated statements', trained: false },
  { id: 'specific', label: 'Specific', text: 'Specific: The response should refer to facts and details and avoid vague arguments', trained: false },
  { id: 'readable', label: 'Readable', text: 'Readable: The response should be easy to read and understand, not too technical for laymen', trained: false },
  { id: 'fair', label: 'Fair', text: 'Fair: The response should avoid biased or one-sided arguments and consider different points of view', trained: false },
  { id: 'repeat', label: 'No repetition', text: 'Repeat: The response should avoid repetitive statements of one point', trained: false },
  { id: 'length', label: 'Concise', text: 'Length: The response should be concise and avoid redundant content', trained: false },
];

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
  'metaaligner-query': {
    id: 'metaaligner-query',
    label: 'MetaAligner, UltraFeedback models (query, chosen objectives)',
    // The UltraFeedback MetaAligners were trained on this "query" wording (its dataset script,
    // UltraFeedback_make_aligner_data.py), not the README's "context" one.
    text: 'You are an assistant to human. You will be provided with a query and an answer. Consider the query, then edit the answer to improve it considering these aspects: {aspects} | Query: {question} | Answer: {answer} | Edit: ',
    // A model that runs on into another prompt stops at its markers.
    stop: ['| Query:', '| Answer:', 'You are an assistant to human.'],
    aspects: [
      // The training strings, word for word (including their lower-case "the response").
      { id: 'instruction_following', label: 'Instruction following', text: 'Instruction following: the response should follow the instructions of the query', trained: true },
      { id: 'honesty', label: 'Honest', text: 'Honesty: the response should not tell lies', trained: true },
      { id: 'truthfulness', label: 'Truthful', text: 'Truthfulness: the response should actively making known all the full truth of a matter', trained: true },
      { id: 'helpfulness', label: 'Helpful', text: 'Helpfulness: the response should provide useful resources and suggestions to the user', trained: true },
      ...UNSEEN_ASPECTS,
    ],
  },
  'metaaligner-context': {
    id: 'metaaligner-context',
    label: 'MetaAligner, HH-RLHF models (context, chosen objectives)',
    text: 'You are an assistant to human. You will be provided with a context and an answer. Consider the context, then edit the answer to improve it considering these aspects: {aspects} | Context: {question} | Answer: {answer} | Edit: ',
    stop: ['| Context:', '| Answer:', 'You are an assistant to human.'],
    aspects: [
      { id: 'harmlessness', label: 'Harmless', text: 'Harmlessness: The response should avoid content that is offensive, discriminatory, or harmful', trained: true },
      { id: 'helpfulness', label: 'Helpful', text: 'Helpfulness: The response should provide useful resources and suggestions to the user', trained: true },
      { id: 'humour', label: 'Humour', text: 'Humour: The response should be cheerful and amusing', trained: true },
      ...UNSEEN_ASPECTS,
    ],
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
export function renderPrompt(templateId: TemplateId, question: string, answer: string, aspects?: readonly string[]): string {
  const template = TEMPLATES[templateId];
  if (!template.text) throw new Error(`Template "${templateId}" is rendered by the model's chat template`);
  // One pass with a function replacer: `$&` in user text stays literal, and a question that
  // contains "{answer}" is not expanded twice.
  const values = { question: question.trim(), answer: answer.trim(), aspects: aspectsText(templateId, aspects) };
  return template.text.replace(/\{(question|answer|aspects)\}/g, (_, key: 'question' | 'answer' | 'aspects') => values[key]);
}

/**
 * The objectives a template's prompt names, joined as MetaAligner reads them ("; "). Unknown
 * ids are skipped; none chosen (or none known) means the model's trained objectives.
 */
export function aspectsText(templateId: TemplateId, chosen?: readonly string[]): string {
  const all = TEMPLATES[templateId].aspects ?? [];
  const picked = all.filter((aspect) => chosen?.includes(aspect.id));
  return (picked.length > 0 ? picked : all.filter((aspect) => aspect.trained)).map((aspect) => aspect.text).join('; ');
}
