// `npm test`: build what the end-to-end tests load, then run every test (unit, Chromium, Firefox),
// and close with one plain "Tests: N passed, N failed" line (scripts/test-summary.mjs).
// REALIGN_TEST_SKIP_BUILD=1 skips the builds (the runner's own test uses it on a fixture suite).
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { closingLines } from './test-summary.mjs';

const started = Date.now();
const summaryFile = process.env.REALIGN_TEST_SUMMARY ?? 'test-results/summary.json';
const env = { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip', REALIGN_TEST_SUMMARY: summaryFile };
const run = (command, args) => execFileSync(command, args, { stdio: 'inherit', env });
rmSync(summaryFile, { force: true });
let buildFailed = false;
try {
  if (!process.env.REALIGN_TEST_SKIP_BUILD) {
    try {
      run('node', ['scripts/build-test.mjs']);
    } catch (error) {
      buildFailed = true;
      throw error;
    }
  }
  run('npx', ['vitest', 'run', '--reporter=default', '--reporter=./scripts/test-reporter.ts', ...process.argv.slice(2)]);
} catch (error) {
  process.exitCode = typeof error.status === 'number' && error.status !== 0 ? error.status : 1;
}
const summary = existsSync(summaryFile) ? JSON.parse(readFileSync(summaryFile, 'utf8')) : null;
const lines = closingLines(summary, { buildFailed });
// A run whose count says failed must not exit 0, whatever the runner returned.
if (!/, 0 failed/.test(lines.at(-1))) process.exitCode ||= 1;
console.log(`npm test took ${((Date.now() - started) / 1000).toFixed(0)} s`);
for (const line of lines) console.log(line);
