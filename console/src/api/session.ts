// The signed-in session: only the token and who it acts for, in sessionStorage (gone with the tab).
// The secret key is never stored: it is used once, to sign the token request.

export interface Session {
  token: string;
  projectId: string;
  userId: string;
  userName: string;
  expiresAt: string;
}

const SESSION_KEY = "coc.session";
const NOTICE_KEY = "coc.signin-notice";
const listeners = new Set<() => void>();

export function loadSession(): Session | null {
  const saved = sessionStorage.getItem(SESSION_KEY);
  if (!saved) return null;
  try {
    return JSON.parse(saved) as Session;
  } catch {
    return null;
  }
}

export function saveSession(session: Session): void {
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
  sessionStorage.removeItem(NOTICE_KEY);
  listeners.forEach((listener) => listener());
}

/** Forgets the token; `notice` is what the sign-in page says about why. */
export function endSession(notice?: string): void {
  sessionStorage.removeItem(SESSION_KEY);
  if (notice) sessionStorage.setItem(NOTICE_KEY, notice);
  else sessionStorage.removeItem(NOTICE_KEY);
  listeners.forEach((listener) => listener());
}

export function signInNotice(): string | null {
  return sessionStorage.getItem(NOTICE_KEY);
}

export function onSessionChange(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}
