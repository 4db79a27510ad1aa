import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import {
  answerOf,
  checkRecords,
  correctedRecord,
  defaultGenerator,
  formatOfName,
  InputError,
  parseRecords,
  questionOf,
  serializeFile,
  serializeRecord,
  type AlignRecord,
} from '../../../scripts/align/records';
import { matchResumed } from '../../../scripts/align/resume';

describe('reading records', () => {
  test('the format comes from the content, whatever the name', () => {
    expect(parseRecords('[{"instruction":"q","output":"a"}]', 'x.jsonl').format).toBe('json-array');
    expect(parseRecords('\uFEFF  \n[]', 'x.json').format).toBe('json-array');
    expect(parseRecords('{"instruction":"q","output":"a"}\n{"instruction":"r","output":"b"}\n', 'x.json')).toEqual({
      format: 'jsonl',
      records: [
        { instruction: 'q', output: 'a' },
        { instruction: 'r', output: 'b' },
      ],
      lines: [1, 2],
    });
  });

  test('JSON Lines: blank lines are skipped and records keep their line numbers; CRLF files read the same', () => {
    const file = parseRecords('{"instruction":"q","output":"a"}\r\n\r\n{"instruction":"r","output":"b"}\r\n', 'x.jsonl');
    expect(file.records).toHaveLength(2);
    expect(file.lines).toEqual([1, 3]);
  });

  test('a broken JSON array is placed by line and column', () => {
    expect(() => parseRecords('[\n  {"instruction": "q", "output": "a"},\n  {"instruction": "q", "output": "a",}\n]', 'm.json')).toThrow(
      /m\.json starts like a JSON array but is not valid JSON at line 3, column \d+ \(Expected double-quoted property name\)/,
    );
  });

  test.each([
    ['', /is empty/],
    ['   \n', /is empty/],
    ['"text"', /neither a JSON array of records/],
    ['[1, 2]', /record 0: expected an object .* found a number/],
    ['[{"instruction":"q","output":"a"}, null]', /record 1: expected an object .* found null/],
    ['{"instruction":"q","output":"a"}\n[1]\n', /line 2: expected an object .* found an array/],
  ])('refuses %j', (text, message) => {
    expect(() => parseRecords(text, 'in.json')).toThrow(InputError);
    expect(() => parseRecords(text, 'in.json')).toThrow(message);
  });

  test('checkRecords lists what each bad record lacks, five at most, with the count', () => {
    const records: AlignRecord[] = [
      { instruction: 'ok', output: 'ok' },
      ...Array.from({ length: 7 }, (_, index) => ({ output: `a${index}` })),
      { instruction: 'q', output: ['a'] },
      { instruction: 'q', original_output: 5 },
      { instruction: 'q', output: 'a', input: 3 },
    ];
    let message = '';
    try {
      checkRecords({ format: 'json-array', records }, 'in.json');
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/^in\.json: 10 of 11 records cannot be corrected/);
    expect(message).toContain('record 1: no "instruction" (the question)');
    expect(message).toContain('record 5: no "instruction"');
    expect(message).not.toContain('record 6:');
    expect(message).toContain('… and 5 more');
    expect(() => checkRecords({ format: 'json-array', records: records.slice(8) }, 'in.json')).toThrow(
      /record 0: "output" is an array, not text\n {2}record 1: "original_output" is a number, not text\n {2}record 2: "input" is a number, not text/,
    );
    expect(() => checkRecords({ format: 'jsonl', records: [], lines: [] }, 'in.jsonl')).toThrow(/holds no records/);
    expect(() => checkRecords({ format: 'json-array', records: records.slice(0, 1) }, 'in.json')).not.toThrow();
  });

  test('file names promise a format', () => {
    expect(formatOfName('a/model_outputs.json')).toBe('json-array');
    expect(formatOfName('x.JSONL')).toBe('jsonl');
    expect(formatOfName('x.ndjson')).toBe('jsonl');
    expect(formatOfName('x.txt')).toBeNull();
  });
});

describe('what is corrected and what is written', () => {
  test('the question is the instruction, then the input after a blank line when there is one', () => {
    expect(questionOf({ instruction: 'Translate.', input: 'Bonjour' })).toBe('Translate.\n\nBonjour');
    expect(questionOf({ instruction: 'Translate.', input: '' })).toBe('Translate.');
    expect(questionOf({ instruction: 'Translate.', input: null })).toBe('Translate.');
  });

  test('a record this command wrote is corrected from its original again, never from the correction', () => {
    const once = correctedRecord({ instruction: 'q', output: 'bad', generator: 'g' }, 'good', 'g+al');
    expect(once).toEqual({ instruction: 'q', output: 'good', generator: 'g+al', original_output: 'bad' });
    expect(answerOf(once)).toBe('bad');
    expect(correctedRecord(once, 'better', defaultGenerator(once, 'org/al'))).toEqual({ instruction: 'q', output: 'better', generator: 'g+al', original_output: 'bad' });
  });

  test('the default generator is <generator>+<last part of the model name>', () => {
    expect(defaultGenerator({ generator: 'gpt4_turbo' }, 'aligner/aligner-7b-v1.0')).toBe('gpt4_turbo+aligner-7b-v1.0');
    expect(defaultGenerator({ generator: 'gpt4_turbo' }, 'tests/fixtures/models/tiny-aligner/')).toBe('gpt4_turbo+tiny-aligner');
    expect(defaultGenerator({}, 'aligner-7b')).toBe('unknown+aligner-7b');
  });

  test('a JSON array is written byte for byte as JSON.stringify(records, null, 2), JSON Lines one record a line (property)', () => {
    const record = fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 5 });
    fc.assert(
      fc.property(fc.array(record, { maxLength: 6 }), (records) => {
        const array = serializeFile('json-array', records.map((entry) => serializeRecord('json-array', entry)));
        expect(array).toBe(`${JSON.stringify(records, null, 2)}\n`);
        expect(JSON.parse(array)).toEqual(JSON.parse(JSON.stringify(records)));
        const lines = serializeFile('jsonl', records.map((entry) => serializeRecord('jsonl', entry)));
        expect(lines.split('\n')).toHaveLength(records.length + 1);
        if (records.length > 0) expect(parseRecords(lines, 'x.jsonl').records).toEqual(JSON.parse(JSON.stringify(records)));
      }),
    );
  });
});

describe('--resume matching', () => {
  const inputs: AlignRecord[] = [
    { instruction: 'q0', output: 'a0' },
    { instruction: 'q1', output: 'a1' },
    { instruction: 'q1', output: 'a1' }, // the same question and answer twice, as datasets have
    { instruction: 'q3', output: 'a3', input: 'x' },
    { instruction: 'q4', output: 'a4' },
  ];
  const done = (index: number): AlignRecord => correctedRecord(inputs[index]!, `fixed ${index}`, 'g');

  test('output records match input records in order; a record that failed last time is a gap that gets corrected now', () => {
    const kept = matchResumed(inputs, [done(0), done(1), done(3)], 'out.json', 'in.json');
    expect([...kept.keys()]).toEqual([0, 1, 3]);
    expect(kept.get(3)).toEqual(done(3));
  });

  test('duplicates are matched one to one, in order', () => {
    expect([...matchResumed(inputs, [done(1), done(2)], 'o', 'i').keys()]).toEqual([1, 2]);
    expect([...matchResumed(inputs, [done(0), done(1)], 'o', 'i').keys()]).toEqual([0, 1]);
  });

  test('a record from another input, one without original_output, or one out of order stops the resume', () => {
    expect(() => matchResumed(inputs, [{ instruction: 'q9', output: 'x', original_output: 'a9' }], 'out.json', 'in.json')).toThrow(
      /record 0 of out\.json does not belong to in\.json \(no record of in\.json from index 0 on has the same "instruction" and answer\)/,
    );
    expect(() => matchResumed(inputs, [{ instruction: 'q0', output: 'a0' }], 'out.json', 'in.json')).toThrow(/it has no "original_output"/);
    expect(() => matchResumed(inputs, [done(3), done(0)], 'out.json', 'in.json')).toThrow(/record 1 of out\.json does not belong .* from index 4 on/);
    // The input's "input" is part of the question: a different one is another record.
    expect(() => matchResumed(inputs, [{ ...done(3), input: 'y' }], 'o', 'i')).toThrow(/does not belong/);
  });
});
