/**
 * The decoder page: decodes as you type (no network), shows warnings and times, and checks the
 * signature against pasted keys or, when asked, this server's JWKS (one fetch per click). Keys or
 * a shared secret is the user's explicit choice (a radio), never guessed from the pasted text.
 */

import '../styles.css';
import { byId, el, prettyJson, setPill } from '../dom.js';
import { type DecodedJwt, decodeJwt } from '../jwt/decode-jwt.js';
import { showJson } from '../jwt/show-json.js';
import { describeTimes, expiryStatus } from '../jwt/token-times.js';
import { listWarnings } from '../jwt/token-warnings.js';
import { type KeyKind, parseKeyInput, type SignatureStatus, verifySignature } from '../jwt/verify-signature.js';

const input = byId<HTMLTextAreaElement>('decoder-input');
const errorBox = byId('decoder-error');
const warningsList = byId('decoder-warnings');
const headerOut = byId('decoder-header');
const claimsOut = byId('decoder-claims');
const timesOut = byId('decoder-times');
const expiryPill = byId('decoder-expiry');
const jwksInput = byId<HTMLTextAreaElement>('decoder-jwks-input');
const keyKindJwks = byId<HTMLInputElement>('decoder-key-kind-jwks');
const keyKindSecret = byId<HTMLInputElement>('decoder-key-kind-secret');
const keyLabel = byId('decoder-key-label');
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

/** The time rows and expiry pill for a token; pure, so a failure leaves the page untouched. */
function timesView(token: DecodedJwt): { rows: HTMLElement[]; expiry: { text: string; tone: 'ok' | 'warn' | 'bad' } } {
  const now = nowSec();
  const entries = describeTimes(token.claims, now);
  const status = expiryStatus(token.claims, now);
  const tone = status.state === 'valid' ? 'ok' : status.state === 'no-expiry' ? 'warn' : 'bad';
  const rows =
    entries.length === 0
      ? [el('dt', {}, '–'), el('dd', {}, 'No time claims.')]
      : entries.flatMap((entry) => [
          el('dt', {}, entry.claim),
          el(
            'dd',
            {},
            entry.valid ? new Date(entry.iso).toLocaleString() : showJson(entry.value, { maxLength: 120 }),
            ' ',
            el('span', { class: 'relative' }, `(${entry.relative})`),
          ),
        ]);
  return { rows, expiry: { text: status.text, tone } };
}

/** Everything the page shows about one token, built before any of it is put on the page. */
interface TokenView {
  readonly token: DecodedJwt;
  readonly header: string;
  readonly claims: string;
  readonly times: ReturnType<typeof timesView>;
  readonly warnings: HTMLElement[];
}

function tokenView(token: DecodedJwt): TokenView {
  return {
    token,
    header: prettyJson(token.header),
    claims: prettyJson(token.claims),
    times: timesView(token),
    warnings: listWarnings(token.header, token.claims, nowSec()).map((warning) =>
      el(
        'li',
        { class: `warning ${warning.severity}`, 'data-testid': 'decoder-warning', 'data-code': warning.code },
        el('span', { class: 'warning-code' }, warning.code),
        el('span', {}, warning.message),
      ),
    ),
  };
}

/** Puts one consistent state on the page: a token's view, or an error (or nothing) with every panel cleared. */
function show(state: { readonly view: TokenView } | { readonly error: string | undefined }): void {
  if ('view' in state) {
    const { view } = state;
    current = view.token;
    errorBox.hidden = true;
    errorBox.textContent = '';
    headerOut.textContent = view.header;
    claimsOut.textContent = view.claims;
    timesOut.replaceChildren(...view.times.rows);
    setPill(expiryPill, view.times.expiry.text, view.times.expiry.tone);
    warningsList.replaceChildren(...view.warnings);
    return;
  }
  current = undefined;
  errorBox.hidden = state.error === undefined;
  errorBox.textContent = state.error ?? '';
  headerOut.textContent = '–';
  claimsOut.textContent = '–';
  timesOut.replaceChildren();
  warningsList.replaceChildren();
  setPill(expiryPill, '–', 'neutral');
}

function render(): void {
  generation += 1;
  resetSignature();
  const decoded = decodeJwt(input.value);
  if (!decoded.ok) {
    show({ error: decoded.code === 'ERR_TOKEN_EMPTY' ? undefined : decoded.message });
    return;
  }
  let view: TokenView;
  try {
    view = tokenView(decoded);
  } catch (error) {
    show({ error: `This token cannot be shown: ${error instanceof Error ? error.message : String(error)}.` });
    return;
  }
  show({ view });
}

/** Relative times ("in 4 min") age while the page is open. */
function refreshTimes(): void {
  if (current === undefined) return;
  try {
    const times = timesView(current);
    timesOut.replaceChildren(...times.rows);
    setPill(expiryPill, times.expiry.text, times.expiry.tone);
  } catch {
    // The token was shown once; leave its last times rather than break the page.
  }
}

const TONES: Record<SignatureStatus, 'ok' | 'warn' | 'bad'> = {
  valid: 'ok',
  invalid: 'bad',
  unsigned: 'bad',
  'no-key': 'warn',
  unsupported: 'warn',
  'bad-key-input': 'warn',
};

/** What the key field holds, as the user chose it (never guessed from the text). */
function keyKind(): KeyKind {
  return keyKindSecret.checked ? 'secret' : 'jwks';
}

const KEY_FIELD: Record<KeyKind, { label: string; placeholder: string }> = {
  jwks: {
    label: 'JWKS or JWK (public keys, JSON)',
    placeholder: '{"keys":[{"kty":"EC","crv":"P-256","kid":"…","x":"…","y":"…"}]}',
  },
  secret: { label: 'Shared secret (the HMAC key, as text)', placeholder: 'the HS256 shared secret' },
};

function onKeyKindChange(): void {
  const field = KEY_FIELD[keyKind()];
  keyLabel.textContent = field.label;
  jwksInput.placeholder = field.placeholder;
  resetSignature();
}

async function verify(keyText: string): Promise<void> {
  const token = current;
  if (token === undefined) {
    setPill(signaturePill, 'no token', 'warn');
    signatureDetail.textContent = 'Paste a token above first.';
    return;
  }
  const keys = parseKeyInput(keyText, keyKind());
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
    keyKindJwks.checked = true;
    onKeyKindChange();
    jwksInput.value = prettyJson(await response.json());
    await verify(jwksInput.value);
  } catch (error) {
    setPill(signaturePill, 'jwks-unavailable', 'warn');
    signatureDetail.textContent = `Could not load this server's JWKS: ${error instanceof Error ? error.message : String(error)}.`;
  } finally {
    serverJwksButton.disabled = false;
  }
}

/** The fragment as text: %-decoded when it is well formed, else exactly as written (never an exception). */
function readFragment(fragment: string): string {
  try {
    return decodeURIComponent(fragment);
  } catch {
    return fragment;
  }
}

input.addEventListener('input', render);
jwksInput.addEventListener('input', resetSignature);
keyKindJwks.addEventListener('change', onKeyKindChange);
keyKindSecret.addEventListener('change', onKeyKindChange);
verifyButton.addEventListener('click', () => {
  void verify(jwksInput.value);
});
serverJwksButton.addEventListener('click', () => {
  void useServerJwks();
});
// A token can be handed over in the fragment (never sent to the server): /decoder#eyJ...
if (location.hash.length > 1) {
  input.value = readFragment(location.hash.slice(1));
  history.replaceState(null, '', location.pathname);
}
// The browser may restore the radio's state on back/forward: label the field to match.
onKeyKindChange();
render();
setInterval(refreshTimes, 1000);
