// `npm test`: build what the end-to-end tests load, then run every test (unit, Chromium, Firefox).
import { execFileSync } from 'node:child_process';

const started = Date.now();
const run = (command, args) => execFileSync(command, args, { stdio: 'inherit', env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' } });
try {
  run('node', ['scripts/build-test.mjs']);
  run('npx', ['vitest', 'run', ...process.argv.slice(2)]);
} catch (error) {
  process.exitCode = typeof error.status === 'number' ? error.status : 1;
}
console.log(`npm test took ${((Date.now() - started) / 1000).toFixed(0)} s`);
