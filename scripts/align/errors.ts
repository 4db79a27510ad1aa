// Errors the CLI tells apart: a usage error (exit 2, points to --help) and plain words for
// network failures, which Node reports only as "fetch failed" with the reason in `cause`.

/** The command line cannot be run as given: exit 2 and point to --help. */
export class UsageError extends Error {}

const NETWORK_CODES: Record<string, string> = {
  ECONNREFUSED: 'connection refused: nothing is listening there',
  ENOTFOUND: 'host name not found',
  EAI_AGAIN: 'host name lookup failed (no network or DNS?)',
  ETIMEDOUT: 'connection timed out',
  ECONNRESET: 'connection reset',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
  UND_ERR_SOCKET: 'the connection broke',
  CERT_HAS_EXPIRED: 'its TLS certificate has expired',
  DEPTH_ZERO_SELF_SIGNED_CERT: 'its TLS certificate is self-signed',
};

/**
 * The reason under a failed fetch ("connection refused: …", "host name not found"), or null when
 * `error` is not a network failure.
 */
export function networkReason(error: unknown): string | null {
  if (!(error instanceof Error)) return null;
  const cause = (error as { cause?: unknown }).cause as { code?: string; message?: string; cause?: unknown } | undefined;
  const isFetchFailure = error.message === 'fetch failed' || (error.name === 'TypeError' && cause !== undefined);
  if (!isFetchFailure) return null;
  const code = cause?.code ?? (cause?.cause as { code?: string } | undefined)?.code;
  if (code && NETWORK_CODES[code]) return `${NETWORK_CODES[code]}, ${code}`;
  if (code) return code;
  return cause?.message ?? error.message;
}

export { messageOf } from '../../utils/errors';

/** A hub download that never reached the host: which host, why, and what --host does. */
export function downloadFailure(model: string, host: string, hostGiven: boolean, reason: string): string {
  const hint = hostGiven
    ? `check --host: it must be a running mirror of the hub (the hub's URL layout, /{owner}/{name}/resolve/{revision}/{file})`
    : 'check the network, or pass --host <url> to download from a mirror of the hub';
  return `Could not download ${model} from ${host} (${reason}): ${hint}.`;
}
