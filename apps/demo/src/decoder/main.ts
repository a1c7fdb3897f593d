/**
 * The decoder page: decodes as you type (no network), shows warnings and times, and checks the
 * signature against pasted keys or, when asked, this server's JWKS (one fetch per click).
 */

import '../styles.css';
import { byId, el, prettyJson, setPill } from '../dom.js';
import { type DecodedJwt, decodeJwt } from '../jwt/decode-jwt.js';
import { describeTimes, expiryStatus } from '../jwt/token-times.js';
import { listWarnings } from '../jwt/token-warnings.js';
import { parseKeyInput, type SignatureStatus, verifySignature } from '../jwt/verify-signature.js';

const input = byId<HTMLTextAreaElement>('decoder-input');
const errorBox = byId('decoder-error');
const warningsList = byId('decoder-warnings');
const headerOut = byId('decoder-header');
const claimsOut = byId('decoder-claims');
const timesOut = byId('decoder-times');
const expiryPill = byId('decoder-expiry');
const jwksInput = byId<HTMLTextAreaElement>('decoder-jwks-input');
const verifyButton = byId<HTMLButtonElement>('decoder-verify');
const serverJwksButton = byId<HTMLButtonElement>('decoder-use-server-jwks');
const signaturePill = byId('decoder-signature');
const signatureDetail = byId('decoder-signature-detail');

let current: DecodedJwt | undefined;
/** Bumped on every edit, so that a slow verification of an older token never overwrites a newer result. */
let generation = 0;

const nowSec = () => Math.floor(Date.now() / 1000);

function resetSignature(): void {
  setPill(signaturePill, 'not checked', 'neutral');
  signatureDetail.textContent = '';
}

function renderTimes(token: DecodedJwt): void {
  const entries = describeTimes(token.claims, nowSec());
  const status = expiryStatus(token.claims, nowSec());
  const tone = status.state === 'valid' ? 'ok' : status.state === 'no-expiry' ? 'warn' : 'bad';
  setPill(expiryPill, status.text, tone);
  if (entries.length === 0) {
    timesOut.replaceChildren(el('dt', {}, '–'), el('dd', {}, 'No time claims.'));
    return;
  }
  timesOut.replaceChildren(
    ...entries.flatMap((entry) => [
      el('dt', {}, entry.claim),
      el(
        'dd',
        {},
        entry.valid ? new Date(entry.iso).toLocaleString() : String(JSON.stringify(entry.value)),
        ' ',
        el('span', { class: 'relative' }, `(${entry.relative})`),
      ),
    ]),
  );
}

function render(): void {
  generation += 1;
  resetSignature();
  const decoded = decodeJwt(input.value);
  if (!decoded.ok) {
    current = undefined;
    const empty = decoded.code === 'ERR_TOKEN_EMPTY';
    errorBox.hidden = empty;
    errorBox.textContent = empty ? '' : decoded.message;
    headerOut.textContent = '–';
    claimsOut.textContent = '–';
    timesOut.replaceChildren();
    warningsList.replaceChildren();
    setPill(expiryPill, '–', 'neutral');
    return;
  }
  current = decoded;
  errorBox.hidden = true;
  errorBox.textContent = '';
  headerOut.textContent = prettyJson(decoded.header);
  claimsOut.textContent = prettyJson(decoded.claims);
  renderTimes(decoded);
  warningsList.replaceChildren(
    ...listWarnings(decoded.header, decoded.claims, nowSec()).map((warning) =>
      el(
        'li',
        { class: `warning ${warning.severity}`, 'data-testid': 'decoder-warning', 'data-code': warning.code },
        el('span', { class: 'warning-code' }, warning.code),
        el('span', {}, warning.message),
      ),
    ),
  );
}

const TONES: Record<SignatureStatus, 'ok' | 'warn' | 'bad'> = {
  valid: 'ok',
  invalid: 'bad',
  unsigned: 'bad',
  'no-key': 'warn',
  unsupported: 'warn',
  'bad-key-input': 'warn',
};

async function verify(keyText: string): Promise<void> {
  const token = current;
  if (token === undefined) {
    setPill(signaturePill, 'no token', 'warn');
    signatureDetail.textContent = 'Paste a token above first.';
    return;
  }
  const keys = parseKeyInput(keyText);
  if ('error' in keys) {
    setPill(signaturePill, 'bad-key-input', 'warn');
    signatureDetail.textContent = keys.error;
    return;
  }
  const started = generation;
  setPill(signaturePill, 'checking…', 'neutral');
  const result = await verifySignature(token, keys);
  if (started !== generation) return;
  setPill(signaturePill, result.status, TONES[result.status]);
  const privateNote =
    keys.kind === 'jwks' && keys.hadPrivateParts
      ? ' Note: the pasted keys contained private key material; only their public parts were used. Never share private keys.'
      : '';
  signatureDetail.textContent = result.message + privateNote;
}

async function useServerJwks(): Promise<void> {
  serverJwksButton.disabled = true;
  try {
    const response = await fetch('/.well-known/jwks.json', { credentials: 'omit', cache: 'no-store' });
    if (!response.ok) throw new Error(`the server answered ${response.status}`);
    jwksInput.value = prettyJson(await response.json());
    await verify(jwksInput.value);
  } catch (error) {
    setPill(signaturePill, 'jwks-unavailable', 'warn');
    signatureDetail.textContent = `Could not load this server's JWKS: ${error instanceof Error ? error.message : String(error)}.`;
  } finally {
    serverJwksButton.disabled = false;
  }
}

input.addEventListener('input', render);
jwksInput.addEventListener('input', resetSignature);
verifyButton.addEventListener('click', () => {
  void verify(jwksInput.value);
});
serverJwksButton.addEventListener('click', () => {
  void useServerJwks();
});
// A token can be handed over in the fragment (never sent to the server): /decoder#eyJ...
if (location.hash.length > 1) {
  input.value = decodeURIComponent(location.hash.slice(1));
  history.replaceState(null, '', location.pathname);
}
render();
// Relative times ("in 4 min") age while the page is open.
setInterval(() => {
  if (current !== undefined) renderTimes(current);
}, 1000);
