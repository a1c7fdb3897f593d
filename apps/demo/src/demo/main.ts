/**
 * The demo app: one @tessera/client on this origin (memory mode, or `?mode=worker`), wired to
 * the page. The access token never reaches the DOM; the page shows only what `session()`,
 * `getUser()` and the API answers tell it.
 */

import '../styles.css';
import { type AuthClient, AuthClientError, type AuthEvent, createAuthClient } from '@tessera/client';
import { byId, el, prettyJson, setPill } from '../dom.js';
import { describeEvent, formatClock, formatRemaining, summariseUserAgent } from './describe-event.js';

const params = new URLSearchParams(location.search);
const mode = params.get('mode') === 'worker' ? 'worker' : 'memory';
const proactiveRefresh = params.get('proactive') !== 'off';

const ui = {
  mode: byId('mode'),
  error: byId('error'),
  loading: byId('loading'),
  loginCard: byId('login-card'),
  form: byId<HTMLFormElement>('auth-form'),
  email: byId<HTMLInputElement>('email'),
  password: byId<HTMLInputElement>('password'),
  login: byId<HTMLButtonElement>('login'),
  register: byId<HTMLButtonElement>('register'),
  notice: byId('auth-notice'),
  dashboard: byId('dashboard'),
  signedInAs: byId('signed-in-as'),
  logout: byId<HTMLButtonElement>('logout'),
  logoutAll: byId<HTMLButtonElement>('logout-all'),
  remaining: byId('token-remaining'),
  meterFill: byId('token-meter-fill'),
  tokenNote: byId('token-note'),
  whoami: byId<HTMLButtonElement>('whoami'),
  whoamiOutput: byId('whoami-output'),
  callApi: byId<HTMLButtonElement>('call-api'),
  callReports: byId<HTMLButtonElement>('call-reports'),
  apiStatus: byId('api-status'),
  apiOutput: byId('api-output'),
  sessions: byId('sessions'),
  sessionsRefresh: byId<HTMLButtonElement>('sessions-refresh'),
  statusPanel: byId('status-panel'),
  modeSwitch: byId<HTMLAnchorElement>('mode-switch'),
};

let client: AuthClient;
try {
  client = createAuthClient({
    issuer: location.origin,
    mode,
    proactiveRefresh,
    // No workerUrl: the SDK's default `new URL('./worker.js', import.meta.url)` is what Vite
    // bundles (once); passing a `?worker&url` copy as well would ship the worker twice.
  });
} catch (error) {
  ui.loading.hidden = true;
  showError(error);
  throw error;
}

// ---- helpers ---------------------------------------------------------------------------------

/** A sentence for an error, with the stable code the SDK or server gave. */
function errorText(error: unknown): string {
  if (error instanceof AuthClientError) {
    const hints: Record<string, string> = {
      ERR_INVALID_CREDENTIALS: 'Wrong email or password.',
      ERR_NOT_SIGNED_IN: 'You are not signed in.',
      ERR_NETWORK: 'The server could not be reached. Check your connection and try again.',
      ERR_RATE_LIMITED: 'Too many attempts. Wait a moment and try again.',
    };
    return `${hints[error.code] ?? error.message} (${error.code})`;
  }
  if (error instanceof Error) return error.message;
  return String(error);
}

function showError(error: unknown): void {
  ui.error.textContent = errorText(error);
  ui.error.hidden = false;
}

function clearError(): void {
  ui.error.hidden = true;
  ui.error.textContent = '';
}

/** Runs a button's action with the button disabled and errors shown. */
async function busy(button: HTMLButtonElement, action: () => Promise<void>): Promise<void> {
  button.disabled = true;
  clearError();
  try {
    await action();
  } catch (error) {
    showError(error);
  } finally {
    button.disabled = false;
  }
}

function readCredentials(): { email: string; password: string } | undefined {
  const email = ui.email.value.trim();
  const password = ui.password.value;
  if (email === '' || password === '') {
    showError(new Error('Enter an email address and a password.'));
    return undefined;
  }
  return { email, password };
}

// ---- signed-in / signed-out views --------------------------------------------------------------

let signedIn = false;

function showSignedOut(): void {
  signedIn = false;
  ui.loading.hidden = true;
  ui.dashboard.hidden = true;
  ui.loginCard.hidden = false;
  ui.signedInAs.textContent = '';
  ui.whoamiOutput.textContent = 'Press the button to ask the auth server.';
  ui.apiOutput.textContent = 'No call yet.';
  setPill(ui.apiStatus, 'not called', 'neutral');
  ui.sessions.replaceChildren();
  renderRemaining();
}

async function showSignedIn(): Promise<void> {
  signedIn = true;
  ui.loading.hidden = true;
  ui.loginCard.hidden = true;
  ui.notice.hidden = true;
  ui.password.value = '';
  ui.dashboard.hidden = false;
  renderRemaining();
  try {
    const who = await client.getUser();
    if (!signedIn) return;
    ui.signedInAs.textContent = who.user.email;
    ui.whoamiOutput.textContent = prettyJson(who);
  } catch (error) {
    showError(error);
  }
  await loadSessions();
}

// ---- the access token's remaining life ------------------------------------------------------

/** Local time the current token was first seen, to draw the meter as a share of its lifetime. */
let tokenSeen: { expiresAt: number; seenAt: number } | undefined;

function renderRemaining(): void {
  const session = client.session();
  if (session === undefined) {
    ui.remaining.textContent = '–';
    ui.meterFill.style.width = '0%';
    tokenSeen = undefined;
    return;
  }
  const now = Date.now();
  if (tokenSeen?.expiresAt !== session.expiresAt) tokenSeen = { expiresAt: session.expiresAt, seenAt: now };
  const left = session.expiresAt - now;
  const lifetime = Math.max(1, session.expiresAt - tokenSeen.seenAt);
  ui.remaining.textContent = left > 0 ? formatRemaining(left) : 'expired';
  ui.meterFill.style.width = `${Math.max(0, Math.min(100, (left / lifetime) * 100))}%`;
  ui.meterFill.classList.toggle('low', left < 60_000);
  ui.tokenNote.textContent = proactiveRefresh
    ? `Valid until ${formatClock(session.expiresAt)}; refreshed silently shortly before it expires.`
    : `Valid until ${formatClock(session.expiresAt)}; proactive refresh is off, the next call after expiry refreshes it.`;
}

setInterval(renderRemaining, 1000);

// ---- activity panel -----------------------------------------------------------------------

const MAX_ENTRIES = 200;

function logEvent(event: AuthEvent): void {
  const line = describeEvent(event);
  const entry = el(
    'li',
    { class: `event ${line.tone}`, 'data-testid': 'status-entry', 'data-type': line.type },
    el('time', { datetime: new Date().toISOString() }, formatClock(Date.now())),
    el('span', {}, el('span', { class: 'event-type' }, line.type), el('span', { class: 'event-detail' }, line.detail)),
  );
  ui.statusPanel.prepend(entry);
  while (ui.statusPanel.childElementCount > MAX_ENTRIES) ui.statusPanel.lastElementChild?.remove();
}

client.onChange((event) => {
  logEvent(event);
  renderRemaining();
  switch (event.type) {
    case 'signed-in':
      if (!signedIn) void showSignedIn();
      break;
    case 'signed-out':
    case 'session-expired':
    case 'reuse-detected':
      if (event.type !== 'signed-out') showError(new Error(describeEvent(event).detail));
      showSignedOut();
      break;
    default:
      break;
  }
});

// ---- actions -------------------------------------------------------------------------------------

ui.form.addEventListener('submit', (submit) => {
  submit.preventDefault();
  const credentials = readCredentials();
  if (credentials === undefined) return;
  void busy(ui.login, async () => {
    await client.login(credentials);
    if (!signedIn) await showSignedIn();
  });
});

ui.register.addEventListener('click', () => {
  const credentials = readCredentials();
  if (credentials === undefined) return;
  void busy(ui.register, async () => {
    ui.notice.hidden = true;
    await client.register(credentials);
    ui.notice.textContent = `If ${credentials.email} was new, its account now exists: log in with it.`;
    ui.notice.hidden = false;
  });
});

ui.logout.addEventListener('click', () => {
  void busy(ui.logout, async () => {
    await client.logout();
    showSignedOut();
  });
});

ui.logoutAll.addEventListener('click', () => {
  void busy(ui.logoutAll, async () => {
    await client.logoutEverywhere();
    showSignedOut();
  });
});

ui.whoami.addEventListener('click', () => {
  void busy(ui.whoami, async () => {
    ui.whoamiOutput.textContent = 'Asking…';
    const who = await client.getUser();
    ui.whoamiOutput.textContent = prettyJson(who);
  });
});

async function callApi(path: string): Promise<void> {
  ui.apiOutput.textContent = `GET ${path}…`;
  try {
    const response = await client.fetch(path);
    const text = await response.text();
    let body: string;
    try {
      body = prettyJson(JSON.parse(text));
    } catch {
      body = text;
    }
    setPill(ui.apiStatus, `${response.status} ${response.statusText}`.trim(), response.ok ? 'ok' : 'bad');
    ui.apiOutput.textContent = body;
  } catch (error) {
    const status = error instanceof AuthClientError && error.status !== undefined ? `${error.status} ` : '';
    setPill(ui.apiStatus, `${status}${error instanceof AuthClientError ? error.code : 'error'}`, 'bad');
    ui.apiOutput.textContent = errorText(error);
  }
}

ui.callApi.addEventListener('click', () => {
  void busy(ui.callApi, () => callApi('/api/hello'));
});
ui.callReports.addEventListener('click', () => {
  void busy(ui.callReports, () => callApi('/api/reports'));
});

// ---- sessions ----------------------------------------------------------------------------------

interface SessionRow {
  readonly id: string;
  readonly created_at: number;
  readonly last_used_at: number;
  readonly expires_at: number;
  readonly user_agent: string | null;
  readonly ip: string | null;
  readonly current: boolean;
}

async function loadSessions(): Promise<void> {
  const response = await client.fetch('/auth/sessions');
  if (!response.ok) {
    ui.sessions.replaceChildren(el('li', { class: 'empty' }, 'Could not load the sessions.'));
    throw new Error(`GET /auth/sessions answered ${response.status}`);
  }
  const { sessions } = (await response.json()) as { sessions: SessionRow[] };
  if (!signedIn) return;
  if (sessions.length === 0) {
    ui.sessions.replaceChildren(el('li', { class: 'empty' }, 'No active sessions.'));
    return;
  }
  ui.sessions.replaceChildren(...sessions.map(renderSession));
}

function renderSession(session: SessionRow): HTMLElement {
  const end = el(
    'button',
    { class: 'btn small danger', type: 'button', 'data-testid': 'end-session', 'data-session-id': session.id },
    session.current ? 'End (this browser)' : 'End',
  );
  end.addEventListener('click', () => {
    void busy(end, async () => {
      const response = await client.fetch(`/auth/sessions/${encodeURIComponent(session.id)}`, { method: 'DELETE' });
      if (response.status !== 204) throw new Error(`DELETE /auth/sessions answered ${response.status}`);
      if (session.current) {
        // This browser's own session: the refresh cookie is dead now, so sign this page out too.
        await client.logout().catch(() => {});
        showSignedOut();
        return;
      }
      await loadSessions();
    });
  });
  const seen = new Date(session.last_used_at * 1000).toLocaleString();
  return el(
    'li',
    {
      class: `session-row${session.current ? ' current' : ''}`,
      'data-testid': 'session-row',
      'data-current': String(session.current),
    },
    el(
      'div',
      { class: 'session-meta' },
      el(
        'span',
        { class: 'session-title' },
        `${summariseUserAgent(session.user_agent)}${session.current ? ' · this browser' : ''}`,
      ),
      el('span', { class: 'session-sub' }, `Last active ${seen}${session.ip === null ? '' : ` · ${session.ip}`}`),
    ),
    end,
  );
}

ui.sessionsRefresh.addEventListener('click', () => {
  // Cleared first, so the list on screen is always the answer to the latest request.
  ui.sessions.replaceChildren(el('li', { class: 'empty' }, 'Loading…'));
  void busy(ui.sessionsRefresh, loadSessions);
});

// ---- start ----------------------------------------------------------------------------------------

ui.mode.textContent = `${client.mode} mode`;
ui.mode.title =
  client.mode === 'worker'
    ? 'The access token lives in a Web Worker; the page never holds it.'
    : 'The access token lives in this page’s memory only (no storage, no cookie).';

ui.modeSwitch.href = client.mode === 'worker' ? '/' : '/?mode=worker';
ui.modeSwitch.textContent = client.mode === 'worker' ? 'Try memory mode' : 'Try worker mode';

client.restore().then(
  async (restored) => {
    if (restored) {
      if (!signedIn) await showSignedIn();
    } else {
      showSignedOut();
    }
  },
  (error: unknown) => {
    showSignedOut();
    showError(error);
  },
);
