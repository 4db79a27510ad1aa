import { encode } from 'gpt-tokenizer/encoding/cl100k_base';
import { answerTexts, editText, seededRandom, simulateCopying } from './tests/bench/copy-edits';
import { proposeDraft } from './model/draft';
const texts = answerTexts();
for (const maxDraft of [8, 16]) {
  let tokens = 0, passes = 0, wasted = 0, drafted=0;
  const random = seededRandom(7);
  for (let rep = 0; rep < 5; rep++) for (const text of texts) {
    const edited = editText(text, random, 0.1 + random() * 0.2);
    const s = encode(' ' + text), t = encode(' ' + edited);
    const r = simulateCopying(s, t, maxDraft, (a, b, c) => proposeDraft(a, b, c).tokens);
    tokens += t.length; passes += r.passes;
  }
  console.log(maxDraft, (tokens / passes).toFixed(3));
}
