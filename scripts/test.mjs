// `npm test`: build what the end-to-end tests load, then run every test (unit, Chromium, Firefox),
// and close with one plain "N passed, N failed" line.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';

const started = Date.now();
const report = 'test-results/vitest.json';
const run = (command, args) => execFileSync(command, args, { stdio: 'inherit', env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' } });
rmSync(report, { force: true });
try {
  run('node', ['scripts/build-test.mjs']);
  run('npx', ['vitest', 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${report}`, ...process.argv.slice(2)]);
} catch (error) {
  process.exitCode = typeof error.status === 'number' ? error.status : 1;
}
if (existsSync(report)) {
  const results = JSON.parse(readFileSync(report, 'utf8'));
  const skipped = results.numPendingTests + results.numTodoTests;
  console.log(`Tests: ${results.numPassedTests} passed, ${results.numFailedTests} failed${skipped ? `, ${skipped} skipped` : ''}`);
}
console.log(`npm test took ${((Date.now() - started) / 1000).toFixed(0)} s`);
