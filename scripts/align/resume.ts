// --resume: which input records the output file already holds. The output keeps the input's
// order and holds only finished records (a record that failed is left out), so its records are
// matched to the input in order: output record k belongs to the first input record, after the
// one that output record k-1 matched, with the same "instruction", the same "input" and an
// "original_output" equal to the answer the input record asks to correct. Input records skipped
// on the way (failed or never reached) are corrected now. An output record that matches no input
// record after the previous match comes from another input: the run stops before writing.
import { answerOf, InputError, type AlignRecord } from './records';

export function sameQuestionAndAnswer(input: AlignRecord, done: AlignRecord): boolean {
  return (
    typeof done.original_output === 'string' &&
    done.original_output === answerOf(input) &&
    done.instruction === input.instruction &&
    (done.input ?? '') === (input.input ?? '')
  );
}

/** Input index → the finished record from the output file. */
export function matchResumed(inputs: readonly AlignRecord[], done: readonly AlignRecord[], outName: string, inName: string): Map<number, AlignRecord> {
  const kept = new Map<number, AlignRecord>();
  let next = 0;
  for (const [position, record] of done.entries()) {
    let index = next;
    while (index < inputs.length && !sameQuestionAndAnswer(inputs[index]!, record)) index += 1;
    if (index === inputs.length) {
      const why =
        typeof record.original_output !== 'string'
          ? 'it has no "original_output", so this command did not write it'
          : `no record of ${inName} from index ${next} on has the same "instruction" and answer`;
      throw new InputError(`Cannot resume: record ${position} of ${outName} does not belong to ${inName} (${why}). Choose another --out, or --overwrite to start again.`);
    }
    kept.set(index, record);
    next = index + 1;
  }
  return kept;
}
