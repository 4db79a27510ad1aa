import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

const FIXTURES = resolve(__dirname, '../../fixtures/sites');

/** Parses a fixture page into its own document (scripts are not run). */
export function loadFixture(name: string): Document {
  const html = readFileSync(resolve(FIXTURES, `${name}.html`), 'utf8');
  return new DOMParser().parseFromString(html, 'text/html');
}

/** Replaces the current document's body with a fixture's, for tests that need the live document. */
export function mountFixture(name: string): void {
  const doc = loadFixture(name);
  document.head.innerHTML = doc.head.innerHTML;
  document.body.innerHTML = doc.body.innerHTML;
}
