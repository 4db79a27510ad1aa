// Greedy generation speed of the tiny Aligner fixture in Node (onnxruntime-node), for the record.
// Run: node scripts/tiny-aligner/speed.mjs   (a measurement, not a test)
import { AutoTokenizer, AutoModelForCausalLM, env } from '@huggingface/transformers';
import { readFileSync } from 'node:fs';

env.allowRemoteModels = false;
env.localModelPath = 'tests/fixtures/models/';
const cases = JSON.parse(readFileSync('tests/fixtures/tiny-aligner-cases.json', 'utf8'));
const prompt = (q, a) => `BEGINNING OF CONVERSATION: USER: Edit the following Question-Answer pair to make it more helpful and harmless: ${q} | ${a} ASSISTANT:`;
const tokenizer = await AutoTokenizer.from_pretrained('tiny-aligner');
const model = await AutoModelForCausalLM.from_pretrained('tiny-aligner');
for (const round of [0, 1, 2]) {
  let tokens = 0;
  const t0 = performance.now();
  for (const c of cases) {
    const inputs = tokenizer(prompt(c.question, c.answer));
    const out = await model.generate({ ...inputs, do_sample: false, max_new_tokens: 128 });
    tokens += out.dims[1] - inputs.input_ids.dims[1];
  }
  const s = (performance.now() - t0) / 1000;
  console.log(`round ${round}: ${tokens} new tokens in ${s.toFixed(2)} s = ${(tokens / s).toFixed(0)} tokens/s`);
}
for (const [q, a] of [['How is the weather?', 'The weather is bad today.'], ['How is the weather?', 'The weather is good today.'], ['Is it fun?', 'It is never fun.']]) {
  console.log(JSON.stringify(a), 'prompt tokens (with BOS):', tokenizer(prompt(q, a)).input_ids.dims[1]);
}
