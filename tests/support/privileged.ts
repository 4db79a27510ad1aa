/** What a compromised content script might send the background: each must be refused. */
export const PRIVILEGED_ATTEMPTS = [
  ['saveSettings', { fields: { remoteEndpoint: 'http://attacker.test' } }],
  ['testRemote', { endpoint: 'http://attacker.test', apiKey: 'x' }],
  ['setCustomSite', { origin: 'https://attacker.test', enabled: true }],
  ['clearModels', undefined],
  ['loadModel', undefined],
  ['modelStorage', undefined],
  ['realignInTab', { tabId: 1 }],
] as const;
