/**
 * Who the console speaks for. Locally the API takes bearer tokens (CRON_API_TOKEN(S)): the
 * operator pastes one, kept in sessionStorage (gone when the tab closes). In AWS the deployment
 * publishes /console-config.json naming a Cognito user pool; the console then signs in through
 * the hosted UI with the authorization-code flow and PKCE, and sends the access token.
 */
import type { ConsoleConfig } from './config';

export type { ConsoleConfig };

const TOKEN_KEY = 'crm-cron.token';
const PKCE_KEY = 'crm-cron.pkce';

let config: ConsoleConfig = {};
let loaded: Promise<ConsoleConfig> | undefined;

/** Reads /console-config.json once (later calls share the answer) and finishes a Cognito sign-in. */
export function loadConfig(): Promise<ConsoleConfig> {
  loaded ??= readConfig();
  return loaded;
}

/** True when this load is the way back from Cognito's hosted UI: no token until the code is traded. */
export const returningFromSignIn = () => new URLSearchParams(location.search).has('code');

async function readConfig(): Promise<ConsoleConfig> {
  try {
    const response = await fetch('/console-config.json', { cache: 'no-store' });
    const type = response.headers.get('content-type') ?? '';
    config = response.ok && type.includes('json') ? ((await response.json()) as ConsoleConfig) : {};
  } catch {
    config = {};
  }
  if (config.cognito) await finishCognitoSignIn(config.cognito);
  return config;
}

export const usesCognito = () => config.cognito !== undefined;

export function currentToken(): string | null {
  const stored = sessionStorage.getItem(TOKEN_KEY);
  if (!stored) return null;
  try {
    const { token, expiresAt } = JSON.parse(stored) as { token: string; expiresAt: number | null };
    if (expiresAt !== null && expiresAt < Date.now()) return null;
    return token;
  } catch {
    return null;
  }
}

export function saveToken(token: string, expiresInSeconds: number | null = null): void {
  const expiresAt = expiresInSeconds === null ? null : Date.now() + expiresInSeconds * 1000;
  sessionStorage.setItem(TOKEN_KEY, JSON.stringify({ token, expiresAt }));
}

export function signOut(): void {
  sessionStorage.removeItem(TOKEN_KEY);
  if (config.cognito) {
    const { domain, clientId } = config.cognito;
    const logout = new URL('/logout', domain);
    logout.searchParams.set('client_id', clientId);
    logout.searchParams.set('logout_uri', redirectUri());
    location.assign(logout.toString());
  }
}

const redirectUri = () => `${location.origin}/`;

function base64Url(bytes: Uint8Array): string {
  let text = '';
  for (const byte of bytes) text += String.fromCharCode(byte);
  return btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

const randomText = () => base64Url(crypto.getRandomValues(new Uint8Array(32)));

/** Sends the browser to the hosted UI; it comes back to / with ?code=...&state=.... */
export async function startCognitoSignIn(): Promise<void> {
  const cognito = config.cognito;
  if (!cognito) return;
  const verifier = randomText();
  const state = randomText();
  const challenge = base64Url(
    new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier))),
  );
  sessionStorage.setItem(PKCE_KEY, JSON.stringify({ verifier, state, hash: location.hash }));
  const url = new URL('/oauth2/authorize', cognito.domain);
  url.search = new URLSearchParams({
    response_type: 'code',
    client_id: cognito.clientId,
    redirect_uri: redirectUri(),
    scope: cognito.scopes.join(' '),
    state,
    code_challenge: challenge,
    code_challenge_method: 'S256',
  }).toString();
  location.assign(url.toString());
}

async function finishCognitoSignIn(cognito: NonNullable<ConsoleConfig['cognito']>) {
  const params = new URLSearchParams(location.search);
  const code = params.get('code');
  const pending = sessionStorage.getItem(PKCE_KEY);
  if (!code || !pending) return;
  sessionStorage.removeItem(PKCE_KEY);
  const { verifier, state, hash } = JSON.parse(pending) as Record<string, string>;
  history.replaceState(null, '', `/${hash ?? ''}`);
  if (params.get('state') !== state) return;
  const response = await fetch(new URL('/oauth2/token', cognito.domain), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code',
      client_id: cognito.clientId,
      code,
      redirect_uri: redirectUri(),
      code_verifier: verifier ?? '',
    }),
  });
  if (!response.ok) return;
  const tokens = (await response.json()) as { access_token: string; expires_in: number };
  saveToken(tokens.access_token, tokens.expires_in);
}
