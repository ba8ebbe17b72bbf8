// The typed API client: openapi-fetch over the paths generated from the server's OpenAPI
// document (schema.d.ts), same origin, cookie session. Every write carries the CSRF token the
// login returned (kept in sessionStorage: per tab, gone with the tab, never in localStorage).
import createClient, { type Middleware } from 'openapi-fetch';
import type { paths } from './schema';

const CSRF_KEY = 'kyso.csrf';
const EXPIRES_KEY = 'kyso.expires';

export function setSessionTokens(csrf: string | null, expiresAt: string | null): void {
  if (csrf) sessionStorage.setItem(CSRF_KEY, csrf);
  else sessionStorage.removeItem(CSRF_KEY);
  if (expiresAt) sessionStorage.setItem(EXPIRES_KEY, expiresAt);
  else sessionStorage.removeItem(EXPIRES_KEY);
}

export function csrfToken(): string | null {
  return sessionStorage.getItem(CSRF_KEY);
}

export function sessionExpiresAt(): string | null {
  return sessionStorage.getItem(EXPIRES_KEY);
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

// Listeners told when the server says the session is gone (401), e.g. to go to the login page.
const unauthenticatedListeners: Array<() => void> = [];
export function onUnauthenticated(listener: () => void): void {
  unauthenticatedListeners.push(listener);
}

const csrf: Middleware = {
  onRequest({ request }) {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      const token = csrfToken();
      if (token) request.headers.set('X-CSRF-Token', token);
    }
    return request;
  },
  onResponse({ response, request }) {
    if (response.status === 401 && !request.url.endsWith('/api/v1/auth/login')) {
      for (const l of unauthenticatedListeners) l();
    }
    return response;
  },
};

export const api = createClient<paths>({ baseUrl: '', credentials: 'same-origin' });
api.use(csrf);

interface ErrorBody {
  error?: { code?: string; message?: string };
}

// Returns the data of an openapi-fetch result or throws an ApiError with the server's id.
export function unwrap<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.data !== undefined && result.response.ok) return result.data;
  const body = (result.error ?? {}) as ErrorBody;
  throw new ApiError(
    result.response.status,
    body.error?.code ?? 'http.' + result.response.status,
    body.error?.message ?? result.response.statusText,
  );
}

// For the few routes outside the registry's OpenAPI document (verify, CA list): plain fetch.
export async function fetchJson<T>(input: string, init: RequestInit = {}): Promise<T> {
  let response: Response;
  try {
    response = await fetch(input, { credentials: 'same-origin', ...init });
  } catch {
    throw new ApiError(0, 'network', 'network error');
  }
  const text = await response.text();
  let body: unknown = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (!response.ok) {
    const e = (body ?? {}) as ErrorBody;
    throw new ApiError(
      response.status,
      e.error?.code ?? 'http.' + response.status,
      e.error?.message ?? response.statusText,
    );
  }
  return body as T;
}
