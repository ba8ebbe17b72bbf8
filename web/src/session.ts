import { reactive } from 'vue';
import { api, onUnauthenticated, setSessionTokens, unwrap } from './api/client';

export type Role =
  'subscriber' | 'agency_officer' | 'delegate_officer' | 'ca_operator' | 'auditor' | 'admin';

export interface Me {
  account_id: number;
  username: string;
  role: Role;
  organization_id: number | null;
  person_id: number | null;
  auth_method: string;
}

export const session = reactive({
  me: null as Me | null,
  checked: false,
  expired: false,
});

// Asks the server who we are (the cookie decides); null when not logged in.
export async function loadSession(): Promise<Me | null> {
  const result = await api.GET('/api/v1/me');
  session.checked = true;
  if (!result.response.ok) {
    session.me = null;
    return null;
  }
  session.me = result.data as unknown as Me;
  return session.me;
}

export async function login(username: string, password: string): Promise<Me | null> {
  const data = unwrap(await api.POST('/api/v1/auth/login', { body: { username, password } }));
  const d = data as { csrf_token?: string; expires_at?: string };
  setSessionTokens(d.csrf_token ?? null, d.expires_at ?? null);
  session.expired = false;
  return loadSession();
}

export async function logout(): Promise<void> {
  try {
    await api.POST('/api/v1/auth/logout');
  } finally {
    setSessionTokens(null, null);
    session.me = null;
  }
}

onUnauthenticated(() => {
  if (session.me) session.expired = true;
  session.me = null;
  setSessionTokens(null, null);
});

// What each role's navigation offers (the server still decides every call).
export function can(role: Role | undefined, what: 'audit' | 'queue' | 'allCertificates'): boolean {
  switch (what) {
    case 'audit':
      return role === 'auditor';
    case 'queue':
      return role === 'ca_operator' || role === 'delegate_officer';
    case 'allCertificates':
      return role === 'ca_operator' || role === 'auditor' || role === 'admin';
  }
}
