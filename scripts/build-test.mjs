// Builds the packages the tests load: the test builds for Chromium and Firefox (the demo build
// plus the content script's test hook), the demo build `npm start` ships (the manifest audit
// checks it has no test hook), and the production builds (the manifest audit; Firefox's with its
// store and sources zips).
import { execFileSync } from 'node:child_process';

const builds = [
  ['build', '--mode', 'e2e'],
  ['build', '-b', 'firefox', '--mode', 'e2e'],
  ['build', '--mode', 'demo'],
  ['build'],
  // Builds the production Firefox package and zips it with its sources (the audit checks the zip).
  ['zip', '-b', 'firefox'],
];
for (const args of builds) {
  const started = Date.now();
  execFileSync('npx', ['wxt', ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
  console.log(`wxt ${args.join(' ')}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
