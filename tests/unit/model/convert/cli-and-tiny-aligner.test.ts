// `npm run convert` end to end (usage errors exit 2; unknown architectures, missing weights and
// unsafe pickles exit 1 with a message; a result folder `npm run align` loads without --dtype),
// and the tiny trained Aligner's HF-layout checkpoint, re-converted, still corrects every case.
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { correctAnswer } from '../../../../model/engine';
import { convertCheckpoint } from '../../../../model/convert/index';
import { FolderSink, listFiles, localFolderFiles } from '../../../../model/convert/node';
import { loadNodeEngine } from '../../../../model/node-platform';
import { FIXTURES } from './fixtures';

const temp = mkdtempSync(join(tmpdir(), 'realign-cli-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));
const TINY = 'tests/fixtures/models/tiny-aligner';
const cases: Array<{ question: string; answer: string; corrected: string }> = JSON.parse(readFileSync('tests/fixtures/tiny-aligner-cases.json', 'utf8'));

function run(script: 'convert' | 'align', args: string[]) {
  const result = spawnSync(process.execPath, ['--import', 'tsx', `scripts/${script}.ts`, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('npm run convert', () => {
  it('exits 2 with usage errors', () => {
    const noModel = run('convert', ['--out', join(temp, 'x')]);
    expect(noModel.status).toBe(2);
    expect(noModel.stderr).toMatch(/--model is required/);
    const badDtype = run('convert', ['--model', TINY, '--out', join(temp, 'x'), '--dtype', 'int3']);
    expect(badDtype.status).toBe(2);
    expect(badDtype.stderr).toMatch(/Unknown dtype "int3"\. Choose one of: fp32, fp16, q8, q4, q4f16/);
    for (const level of ['7', '', '4.5']) {
      const badLevel = run('convert', ['--model', TINY, '--out', join(temp, 'x'), '--accuracy-level', level]);
      expect(badLevel.status, level).toBe(2);
      expect(badLevel.stderr).toMatch(/--accuracy-level must be 0, 1, 2, 3 or 4/);
    }
    const unknownFlag = run('convert', ['--model', TINY, '--frobnicate']);
    expect(unknownFlag.status).toBe(2);
    const notFolder = run('convert', ['--model', './nowhere', '--out', join(temp, 'x')]);
    expect(notFolder.status).toBe(2);
    expect(notFolder.stderr).toMatch(/The folder \.\/nowhere does not exist/);
  });

  it('refuses an --overwrite that would delete the checkpoint or the current folder', () => {
    const checkpoint = join(temp, 'checkpoint');
    mkdirSync(checkpoint, { recursive: true });
    writeFileSync(join(checkpoint, 'config.json'), '{}');
    for (const out of [checkpoint, temp, '.']) {
      const model = out === '.' ? TINY : checkpoint;
      const refused = run('convert', ['--model', model, '--out', out, '--overwrite']);
      expect(refused.status, out).toBe(2);
      expect(refused.stderr).toMatch(/which --overwrite would delete/);
    }
    expect(readFileSync(join(checkpoint, 'config.json'), 'utf8')).toBe('{}');
  });

  it('exits 1 naming the problem: unknown architecture, no weights, an unsafe pickle', () => {
    const gpt2 = join(temp, 'gpt2');
    mkdirSync(gpt2);
    writeFileSync(join(gpt2, 'config.json'), JSON.stringify({ model_type: 'gpt2', architectures: ['GPT2LMHeadModel'], n_embd: 64 }));
    copyFileSync(join(FIXTURES, 'qwen2', 'safetensors', 'model.safetensors'), join(gpt2, 'model.safetensors'));
    const unknown = run('convert', ['--model', gpt2, '--out', join(temp, 'gpt2-out')]);
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toMatch(/does not know the architecture "gpt2" \(GPT2LMHeadModel\)\. It converts: llama, mistral, qwen2/);

    const empty = join(temp, 'empty');
    mkdirSync(empty);
    copyFileSync(join(FIXTURES, 'qwen2', 'safetensors', 'config.json'), join(empty, 'config.json'));
    const noWeights = run('convert', ['--model', empty, '--out', join(temp, 'empty-out')]);
    expect(noWeights.status).toBe(1);
    expect(noWeights.stderr).toMatch(/has no weights the converter reads: looked for model\.safetensors/);

    const unsafe = run('convert', ['--model', join(FIXTURES, 'malicious', 'os-system'), '--out', join(temp, 'unsafe-out')]);
    expect(unsafe.status).toBe(1);
    expect(unsafe.stderr).toMatch(/pytorch_model\.bin was refused: its pickle imports os\.system/);
    expect(readdirSync(temp).filter((name) => name.includes('-out'))).toEqual([]);
  });

  it('writes a folder with one graph that npm run align loads without --dtype', () => {
    const out = join(temp, 'tiny-q4');
    const converted = run('convert', ['--model', TINY, '--out', out, '--dtype', 'q4']);
    expect(converted.status).toBe(0);
    expect(converted.stderr).toMatch(/converted qwen2 \(2 layers, vocabulary 500\) to q4/);
    expect(readdirSync(join(out, 'onnx')).filter((f) => f.endsWith('.onnx'))).toEqual(['model_q4.onnx']);
    expect(readdirSync(out).sort()).toEqual(['config.json', 'generation_config.json', 'onnx', 'tokenizer.json', 'tokenizer_config.json']);
    const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
    expect(config['transformers.js_config']).toEqual({ dtype: 'q4', use_external_data_format: { 'model_q4.onnx': 1 } });
    expect(config.realign_conversion).toMatchObject({ source: TINY, dtype: 'q4' });

    const aligned = run('align', ['--model', out, '--question', 'How is the weather?', '--answer', 'The weather is bad today.']);
    expect(aligned.stderr).not.toMatch(/align:/);
    expect(aligned.stdout.trim()).toBe('The weather is good today.');
    expect(aligned.status).toBe(0);
  });

  it('splits external data into files under the chunk limit', async () => {
    const out = join(temp, 'chunked');
    const converted = run('convert', ['--model', TINY, '--out', out, '--dtype', 'fp32', '--max-chunk-mb', '0.3']);
    expect(converted.status).toBe(0);
    const files = await listFiles(out);
    expect(files.filter((f) => f.startsWith('onnx/'))).toEqual(['onnx/model.onnx', 'onnx/model.onnx_data', 'onnx/model.onnx_data_1', 'onnx/model.onnx_data_2']);
    for (const line of converted.stdout.trim().split('\n').filter((l) => l.includes('onnx_data'))) expect(Number(line.split('\t')[1])).toBeLessThanOrEqual(300_000);
    expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'))['transformers.js_config'].use_external_data_format).toEqual({ 'model.onnx': 3 });
    const aligned = run('align', ['--model', out, '--question', 'Is it fun?', '--answer', 'It is never fun.']);
    expect(aligned.stdout.trim()).toBe('It is always fun.');
  });
});

describe("the tiny Aligner's HF checkpoint, re-converted", () => {
  it('corrects every case through the engine the extension runs (fp32, onnxruntime-node)', async () => {
    const out = join(temp, 'tiny-fp32');
    await convertCheckpoint({ files: localFolderFiles(TINY), sink: new FolderSink(out), dtype: 'fp32' });
    const engine = await loadNodeEngine({ model: out });
    try {
      for (const { question, answer, corrected } of cases) {
        const result = await correctAnswer(engine, question, answer, { template: 'aligner-v1', contextLength: 512, maxNewTokens: 128 });
        expect(result.text).toBe(corrected);
      }
    } finally {
      await engine.dispose();
    }
  });
});
