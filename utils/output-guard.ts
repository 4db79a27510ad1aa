/**
 * Is what the model wrote a corrected answer at all? A model can return nothing, echo its
 * prompt, or write *about* the answer ("The answer is correct.") instead of correcting it.
 * Shown as a correction, any of these would read as "1 change" with the whole answer struck
 * out; the panel says what happened instead. Pure, cheap (linear in the text).
 */
export type OutputVerdict =
  | { usable: true }
  | { usable: false; reason: 'empty' | 'echo' | 'commentary'; message: string };

/** Markers of the prompt templates (model/templates.ts): a correction never contains them. */
const PROMPT_MARKERS = [
  'BEGINNING OF CONVERSATION:',
  'Edit the following Question-Answer pair',
  '##Question:',
  '##Answer:',
  '##Correction:',
  '##Revision:',
  'Answer to correct:',
  'You are an assistant to human.',
  '| Edit:',
  '| Query:',
  '| Context:',
];

/**
 * How replies about an answer begin. A correction is the answer itself, rewritten: it does not
 * grade or describe "the answer".
 */
const COMMENTARY_OPENINGS =
  /^(?:(?:the|this|your|that)\s+(?:original\s+|given\s+|provided\s+|above\s+)?(?:answer|response)\s+(?:is|was|seems|looks|appears|does|already|correctly|accurately|contains|could|should|needs)|(?:no|none)\s+(?:changes?|corrections?|edits?)\s+(?:are\s+|is\s+|were\s+)?(?:needed|necessary|required)|i\s+(?:would|have|made|changed|corrected|edited)\b|(?:here\s+is|here's)\s+(?:the|a|my)\s+(?:corrected|revised|edited|improved)|(?:corrected|revised|edited|improved)\s+(?:answer|response|version)\s*:)/i;

const words = (text: string) => text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];

/** Share of the original's distinct words that the output keeps (0..1). */
export function keptWordShare(original: string, output: string): number {
  const originalWords = new Set(words(original));
  if (originalWords.size === 0) return 1;
  const outputWords = new Set(words(output));
  let kept = 0;
  for (const word of originalWords) if (outputWords.has(word)) kept += 1;
  return kept / originalWords.size;
}

export function judgeCorrection(input: { question: string; original: string; corrected: string }): OutputVerdict {
  const corrected = input.corrected.trim();
  if (corrected === '') {
    return { usable: false, reason: 'empty', message: 'The model returned an empty correction.' };
  }
  const normalised = (text: string) => words(text).join(' ');
  if (PROMPT_MARKERS.some((marker) => corrected.includes(marker))) {
    return { usable: false, reason: 'echo', message: 'The model repeated its instructions instead of correcting the answer.' };
  }
  const question = normalised(input.question);
  if (question && normalised(corrected) === question && normalised(input.original) !== question) {
    return { usable: false, reason: 'echo', message: 'The model repeated the question instead of correcting the answer.' };
  }
  // A reply about the answer opens like one and keeps little of the answer's own words. (An
  // Aligner may rewrite a harmful answer entirely: a low overlap alone is a real correction.)
  if (COMMENTARY_OPENINGS.test(corrected) && keptWordShare(input.original, corrected) < 0.6) {
    return { usable: false, reason: 'commentary', message: 'The model commented on the answer instead of correcting it.' };
  }
  return { usable: true };
}
