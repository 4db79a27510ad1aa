// The closing lines of `npm test`, from the summary scripts/test-reporter.ts writes. The last
// line is the plain form CI reads; its failed number counts failed tests, test files that failed
// to run and unhandled errors, so a red run never reads "0 failed".

const plural = (count, one, many) => `${count} ${count === 1 ? one : many}`;

/** @param {{passed:number, failed:number, skipped:number, filesFailedToRun:string[], unhandledErrors:number} | null} summary */
export function closingLines(summary, { buildFailed = false } = {}) {
  if (!summary) {
    const why = buildFailed ? 'the build failed, so no test ran' : 'the test runner stopped before reporting';
    return [`No test results: ${why}.`, 'Tests: 0 passed, 1 failed'];
  }
  const problems = [];
  if (summary.filesFailedToRun.length > 0) {
    problems.push(`${plural(summary.filesFailedToRun.length, 'file', 'files')} failed to run (${summary.filesFailedToRun.join(', ')})`);
  }
  if (summary.unhandledErrors > 0) problems.push(plural(summary.unhandledErrors, 'unhandled error', 'unhandled errors'));
  const failed = summary.failed + summary.filesFailedToRun.length + summary.unhandledErrors;
  const lines = problems.length > 0 ? [problems.join(', ')] : [];
  lines.push(`Tests: ${summary.passed} passed, ${failed} failed${summary.skipped > 0 ? `, ${summary.skipped} skipped` : ''}`);
  return lines;
}
