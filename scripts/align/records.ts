// Batch files: what AlpacaEval writes (a JSON array, model_outputs.json) and JSON Lines. The
// output keeps the input's format and every field of every record.
import { readFileSync } from 'node:fs';
import { messageOf } from '../../utils/errors';
import { extname } from 'node:path';

export type RecordFormat = 'json-array' | 'jsonl';
export type AlignRecord = Record<string, unknown>;

/** A file that cannot be used as it is: the message names the file, the record and what is wrong. */
export class InputError extends Error {}

export interface RecordFile {
  format: RecordFormat;
  records: AlignRecord[];
  /** JSONL only: the 1-based line of each record, for messages. */
  lines?: number[];
}

/** The format a file name promises, if any: `.json` an array, `.jsonl`/`.ndjson` JSON Lines. */
export function formatOfName(path: string): RecordFormat | null {
  const extension = extname(path).toLowerCase();
  if (extension === '.json') return 'json-array';
  if (extension === '.jsonl' || extension === '.ndjson') return 'jsonl';
  return null;
}

export function describeFormat(format: RecordFormat): string {
  return format === 'json-array' ? 'a JSON array' : 'JSON Lines';
}

/**
 * Reads records from `text` (the content of `file`). The format comes from the content: a file
 * whose first character is `[` is a JSON array, one whose first character is `{` is JSON Lines
 * (one object per line). Anything else is refused.
 */
export function parseRecords(text: string, file: string): RecordFile {
  const body = text.replace(/^\uFEFF/, '');
  const first = body.trimStart()[0];
  if (first === undefined) throw new InputError(`${file} is empty: there are no records to correct.`);
  if (first === '[') {
    let value: unknown;
    try {
      value = JSON.parse(body);
    } catch (error) {
      throw new InputError(`${file} starts like a JSON array but is not valid JSON${whereInJson(body, error)}.`);
    }
    const records = value as unknown[];
    records.forEach((record, index) => {
      if (!isPlainObject(record)) throw new InputError(`${file}, record ${index}: expected an object with "instruction" and "output", found ${kindOf(record)}.`);
    });
    return { format: 'json-array', records: records as AlignRecord[] };
  }
  if (first === '{') {
    const records: AlignRecord[] = [];
    const lines: number[] = [];
    const rows = body.split('\n');
    for (const [row, raw] of rows.entries()) {
      const line = raw.trim();
      if (!line) continue;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch (error) {
        if (records.length === 0 && isSingleObject(body)) {
          throw new InputError(`${file} holds one JSON object spread over several lines, not records: give a JSON array of records (as AlpacaEval's model_outputs.json) or JSON Lines (one record per line).`);
        }
        throw new InputError(`${file}, line ${row + 1}: not a JSON object on one line (${messageOf(error)}). JSON Lines files hold one record per line.`);
      }
      if (!isPlainObject(value)) throw new InputError(`${file}, line ${row + 1}: expected an object with "instruction" and "output", found ${kindOf(value)}.`);
      records.push(value);
      lines.push(row + 1);
    }
    return { format: 'jsonl', records, lines };
  }
  throw new InputError(`${file} is neither a JSON array of records (as AlpacaEval's model_outputs.json) nor JSON Lines (one object per line): it starts with ${JSON.stringify(body.trimStart().slice(0, 20))}.`);
}

export function readRecordFile(file: string): RecordFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw new InputError(`Cannot read ${file}: ${messageOf(error)}.`);
  }
  return parseRecords(text, file);
}

/** How a record is named in messages: its index, and its line for JSON Lines. */
export function recordLabel(file: RecordFile, index: number): string {
  const line = file.lines?.[index];
  return line === undefined ? `record ${index}` : `record ${index} (line ${line})`;
}

/**
 * The answer that gets corrected. A record this command wrote keeps the original in
 * `original_output`: correcting it again starts from that original, so a second run never
 * corrects a correction nor loses the original.
 */
export function answerOf(record: AlignRecord): string {
  return (typeof record.original_output === 'string' ? record.original_output : record.output) as string;
}

/** The question: `instruction`, with `input` after a blank line when a record has one (Alpaca's layout). */
export function questionOf(record: AlignRecord): string {
  return [record.instruction, record.input].filter((part) => typeof part === 'string' && part).join('\n\n');
}

/** Every problem that stops a record from being corrected, so the whole file can be checked before any work. */
export function problemsOf(record: AlignRecord): string[] {
  const problems: string[] = [];
  if (!('instruction' in record)) problems.push('no "instruction" (the question)');
  else if (typeof record.instruction !== 'string') problems.push(`"instruction" is ${kindOf(record.instruction)}, not text`);
  if ('original_output' in record) {
    if (typeof record.original_output !== 'string') problems.push(`"original_output" is ${kindOf(record.original_output)}, not text`);
  } else if (!('output' in record)) problems.push('no "output" (the answer to correct)');
  else if (typeof record.output !== 'string') problems.push(`"output" is ${kindOf(record.output)}, not text`);
  if ('input' in record && record.input !== null && typeof record.input !== 'string') problems.push(`"input" is ${kindOf(record.input)}, not text`);
  return problems;
}

/** Refuses the file when any record cannot be corrected, naming up to five of them. */
export function checkRecords(file: RecordFile, name: string): void {
  if (file.records.length === 0) throw new InputError(`${name} holds no records.`);
  const found: string[] = [];
  let count = 0;
  file.records.forEach((record, index) => {
    const problems = problemsOf(record);
    if (problems.length === 0) return;
    count += 1;
    if (found.length < 5) found.push(`  ${recordLabel(file, index)}: ${problems.join('; ')}`);
  });
  if (count === 0) return;
  const more = count > found.length ? `\n  … and ${count - found.length} more` : '';
  throw new InputError(`${name}: ${count} of ${file.records.length} records cannot be corrected (each needs "instruction" and "output" as text); nothing was written:\n${found.join('\n')}${more}`);
}

/** Records hold the correction in `output` and the corrected answer in `original_output`; every other field stays. */
export function correctedRecord(record: AlignRecord, correction: string, generator: string): AlignRecord {
  return { ...record, output: correction, original_output: answerOf(record), generator };
}

/**
 * The documented default for `generator`: `<generator>+<aligner>`, where `<aligner>` is the last
 * part of the model name (`aligner/aligner-7b-v1.0` → `aligner-7b-v1.0`). A record without a
 * generator gets `unknown+<aligner>`; a record this command already wrote is not suffixed twice.
 */
export function defaultGenerator(record: AlignRecord, model: string): string {
  const aligner = alignerName(model);
  const own = typeof record.generator === 'string' && record.generator ? record.generator : 'unknown';
  return own.endsWith(`+${aligner}`) ? own : `${own}+${aligner}`;
}

export function alignerName(model: string): string {
  return model.replace(/[\\/]+$/, '').split(/[\\/]/).pop() || model;
}

/** One record as it is written: a JSON Lines line, or an element of a JSON array indented as `indent=2` writes it. */
export function serializeRecord(format: RecordFormat, record: AlignRecord): string {
  return format === 'jsonl' ? JSON.stringify(record) : JSON.stringify(record, null, 2).replace(/^/gm, '  ');
}

/** The whole file from serialized records (the same bytes as JSON.stringify(array, null, 2) for arrays). */
export function serializeFile(format: RecordFormat, serialized: string[]): string {
  if (format === 'jsonl') return serialized.map((line) => `${line}\n`).join('');
  return serialized.length === 0 ? '[]\n' : `[\n${serialized.join(',\n')}\n]\n`;
}

function isPlainObject(value: unknown): value is AlignRecord {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isSingleObject(text: string): boolean {
  try {
    return isPlainObject(JSON.parse(text));
  } catch {
    return false;
  }
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return 'text';
  return `a ${typeof value}`;
}


/** " at line L, column C (reason)" from V8's "… in JSON at position N". */
function whereInJson(text: string, error: unknown): string {
  const message = messageOf(error);
  const position = /at position (\d+)/.exec(message);
  const reason = message.replace(/ in JSON at position \d+.*$/, '');
  if (!position) return ` (${reason})`;
  const before = text.slice(0, Number(position[1]));
  const line = before.split('\n').length;
  const column = before.length - before.lastIndexOf('\n');
  return ` at line ${line}, column ${column} (${reason})`;
}
