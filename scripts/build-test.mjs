// Builds the packages the tests load: the demo builds for Chromium and Firefox (the production
// build plus the local demo page's origins) and the production builds (the manifest audit).
import { execFileSync } from 'node:child_process';

const builds = [
  ['build', '--mode', 'demo'],
  ['build', '-b', 'firefox', '--mode', 'demo'],
  ['build'],
  ['build', '-b', 'firefox'],
];
for (const args of builds) {
  const started = Date.now();
  execFileSync('npx', ['wxt', ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
  console.log(`wxt ${args.join(' ')}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
