// `npm test`'s closing line (scripts/test.mjs) on a deliberately broken suite: failed tests,
// files that failed to run and unhandled errors all count as failed, so it never reads "0 failed".
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, test } from 'vitest';
import { closingLines } from '../../../scripts/test-summary.mjs';

test('the closing line counts a failed test, a file that failed to run and an unhandled error', async () => {
  const summary = join(mkdtempSync(join(tmpdir(), 'realign-runner-')), 'summary.json');
  const { code, stdout } = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
    execFile(
      'node',
      ['scripts/test.mjs', '--config', 'tests/fixtures/runner/vitest.config.ts'],
      { env: { ...process.env, REALIGN_TEST_SKIP_BUILD: '1', REALIGN_TEST_SUMMARY: summary }, timeout: 120_000 },
      (error, out) => resolve({ code: error ? (error.code as number | null) : 0, stdout: out }),
    );
  });
  const lines = stdout.trim().split('\n');
  expect(code).not.toBe(0);
  expect(lines.at(-2)).toBe('1 file failed to run (hook.suite.ts), 1 unhandled error');
  expect(lines.at(-1)).toBe('Tests: 2 passed, 3 failed, 1 skipped');
});

test('a green summary reads 0 failed, and no summary at all reads as a failure', () => {
  expect(closingLines({ passed: 5, failed: 0, skipped: 0, filesFailedToRun: [], unhandledErrors: 0 })).toEqual(['Tests: 5 passed, 0 failed']);
  expect(closingLines(null, { buildFailed: true })).toEqual(['No test results: the build failed, so no test ran.', 'Tests: 0 passed, 1 failed']);
});
