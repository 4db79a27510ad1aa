import { describe, expect, test } from 'vitest';
import { buildPrompt, cleanContinuation } from '../../../model/engine';
import { aspectsText, chatMessages, renderPrompt, TEMPLATES } from '../../../model/templates';

describe('prompt templates render the exact strings the Aligners were trained on', () => {
  test('aligner-v1 is the aligner-7b-v1.0 model card template: one space before ASSISTANT:, nothing after', () => {
    expect(renderPrompt('aligner-v1', 'How is the weather?', 'The weather is bad today.')).toBe(
      'BEGINNING OF CONVERSATION: USER: Edit the following Question-Answer pair to make it more helpful and harmless: How is the weather? | The weather is bad today. ASSISTANT:',
    );
  });

  test('aligner-revision is the Aligner-2B AlpacaEval template, with two spaces before ASSISTANT:', () => {
    expect(renderPrompt('aligner-revision', 'Q?', 'A.')).toBe(
      'BEGINNING OF CONVERSATION: USER: ##Question: Q? ##Answer: A. ##Revision:  ASSISTANT:',
    );
  });

  test("aligner-correction is the training repository's current template, ending in one space", () => {
    expect(renderPrompt('aligner-correction', 'Q?', 'A.')).toBe('##Question: Q?\n##Answer: A.\n##Correction: ');
  });

  test('user text with $& patterns and template placeholders stays literal', () => {
    const prompt = renderPrompt('aligner-correction', 'What is {answer}?', 'Costs $& and $1.');
    expect(prompt).toBe('##Question: What is {answer}?\n##Answer: Costs $& and $1.\n##Correction: ');
  });

  test('surrounding whitespace of question and answer is trimmed, inner line breaks kept', () => {
    expect(renderPrompt('aligner-correction', '  Q?\n', '\nline 1\n\nline 2  ')).toBe(
      '##Question: Q?\n##Answer: line 1\n\nline 2\n##Correction: ',
    );
  });

  test('chat has no raw text: it becomes system + user messages for the model chat template', () => {
    expect(() => renderPrompt('chat', 'Q', 'A')).toThrow(/chat template/);
    const prompt = buildPrompt('chat', 'Why?', 'Because.');
    expect(prompt.kind).toBe('chat');
    const messages = chatMessages('Why?', 'Because.');
    expect(messages.map((message) => message.role)).toEqual(['system', 'user']);
    expect(messages[1]!.content).toContain('Why?');
    expect(messages[1]!.content).toContain('Because.');
  });

  test('every raw template has stop strings that a server can use', () => {
    for (const template of Object.values(TEMPLATES)) {
      if (template.text) expect(template.stop.length).toBeGreaterThan(0);
    }
  });
});

describe('cleanContinuation', () => {
  test('drops the leading space the template leaves and anything after a stop string', () => {
    expect(cleanContinuation(' The weather is good today. USER: next', ['USER:'])).toBe('The weather is good today.');
    expect(cleanContinuation('  plain  ', [])).toBe('plain');
  });
});

describe('MetaAligner templates', () => {
  test('the UltraFeedback models get the "query" prompt they were trained on, with their four objectives by default', () => {
    expect(renderPrompt('metaaligner-query', 'How is the weather?', 'It is bad.')).toBe(
      'You are an assistant to human. You will be provided with a query and an answer. Consider the query, then edit the answer to improve it considering these aspects: ' +
        'Instruction following: the response should follow the instructions of the query; Honesty: the response should not tell lies; ' +
        'Truthfulness: the response should actively making known all the full truth of a matter; Helpfulness: the response should provide useful resources and suggestions to the user' +
        ' | Query: How is the weather? | Answer: It is bad. | Edit: ',
    );
  });

  test('the README\'s "context" prompt, with the objectives a person chose (trained or not), in their order', () => {
    expect(renderPrompt('metaaligner-context', 'Q?', 'A.', ['harmlessness', 'helpfulness'])).toBe(
      'You are an assistant to human. You will be provided with a context and an answer. Consider the context, then edit the answer to improve it considering these aspects: ' +
        'Harmlessness: The response should avoid content that is offensive, discriminatory, or harmful; Helpfulness: The response should provide useful resources and suggestions to the user' +
        ' | Context: Q? | Answer: A. | Edit: ',
    );
    expect(aspectsText('metaaligner-context', ['factual', 'length'])).toBe(
      'Factual: The response should be factually correct and avoid hallucinated statements; Length: The response should be concise and avoid redundant content',
    );
    // Unknown ids are skipped; nothing known chosen means the trained objectives.
    expect(aspectsText('metaaligner-context', ['made-up'])).toBe(aspectsText('metaaligner-context'));
    // A template without objectives ignores them.
    expect(renderPrompt('aligner-v1', 'Q', 'A', ['factual'])).not.toContain('Factual');
  });
});
