// A Vitest reporter that counts what `npm test`'s closing line needs: tests passed, failed and
// skipped, plus test files that failed to run (a failing hook or import) and unhandled errors,
// which Vitest's own JSON report leaves out of its failed-test count. It writes them as JSON to
// REALIGN_TEST_SUMMARY (default test-results/summary.json); scripts/test.mjs prints the lines.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Reporter, TestModule } from 'vitest/node';

export interface TestSummary {
  passed: number;
  failed: number;
  skipped: number;
  /** Files with an error outside any test (collection, a beforeAll/afterAll hook), or never finished. */
  filesFailedToRun: string[];
  unhandledErrors: number;
}

function failedOutsideTests(module: TestModule): boolean {
  if (module.state() === 'queued' || module.state() === 'pending') return true;
  if (module.errors().length > 0) return true;
  for (const suite of module.children.allSuites()) if (suite.errors().length > 0) return true;
  return false;
}

export default class SummaryReporter implements Reporter {
  onTestRunEnd(modules: ReadonlyArray<TestModule>, unhandledErrors: ReadonlyArray<unknown>): void {
    const summary: TestSummary = { passed: 0, failed: 0, skipped: 0, filesFailedToRun: [], unhandledErrors: unhandledErrors.length };
    for (const module of modules) {
      for (const test of module.children.allTests()) {
        const state = test.result().state;
        if (state === 'passed') summary.passed += 1;
        else if (state === 'failed') summary.failed += 1;
        else summary.skipped += 1;
      }
      if (failedOutsideTests(module)) summary.filesFailedToRun.push(module.relativeModuleId);
    }
    const file = process.env.REALIGN_TEST_SUMMARY ?? 'test-results/summary.json';
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `${JSON.stringify(summary, null, 2)}\n`);
  }
}
