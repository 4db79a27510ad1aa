import { BACKGROUND_MESSAGE_DATA } from '../../utils/messaging';
import { SENDER_POLICY } from '../../utils/sender-policy';

type BackgroundRequest = keyof typeof BACKGROUND_MESSAGE_DATA;
/** The background requests a content script may make (SENDER_POLICY); every other one is privileged. */
type ContentRequest = { [K in BackgroundRequest]: 'content' extends (typeof SENDER_POLICY)[K][number] ? K : never }[BackgroundRequest];
export type PrivilegedRequest = Exclude<BackgroundRequest, ContentRequest>;

/**
 * A well-formed request for each privileged name (the type makes a new request fail to compile
 * until it is listed here), so that a refusal can only come from the sender check.
 */
const ATTEMPTS: { [K in PrivilegedRequest]: unknown } = {
  saveSettings: { fields: { remoteEndpoint: 'http://attacker.test' } },
  loadModel: undefined,
  freeModel: undefined,
  testRemote: { endpoint: 'http://attacker.test', apiKey: 'x' },
  modelStorage: undefined,
  clearModels: undefined,
  realignInTab: { tabId: 1 },
  setCustomSite: { origin: 'https://attacker.test', enabled: true },
  customSites: undefined,
};

/** What a compromised content script might send the background: each must be refused. */
export const PRIVILEGED_ATTEMPTS = Object.entries(ATTEMPTS) as [PrivilegedRequest, unknown][];
