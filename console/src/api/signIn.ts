// Sign-in: the browser signs `POST /v1/auth/tokens` with the access key (SDK-HMAC-SHA256, WebCrypto)
// and keeps only the token it gets back. The secret key is not stored anywhere.
import { apiHost, apiOrigin } from "../config";
import { authorizationHeader, sdkDate } from "../signing";
import { ApiError } from "./errors";
import { saveSession, type Session } from "./session";

const TOKENS_PATH = "/v1/auth/tokens";

interface TokenAnswer {
  token: { expires_at: string; project: { id: string }; user: { id: string; name: string } };
}

export async function signIn(accessKey: string, secretKey: string, now = new Date()): Promise<Session> {
  const headers = { "Content-Type": "application/json", "X-Sdk-Date": sdkDate(now) };
  const toSign = { method: "POST", path: TOKENS_PATH, query: "", headers: { ...headers, host: apiHost() }, body: "" };
  const authorization = await authorizationHeader(accessKey.trim(), secretKey, toSign);
  const answer = await fetch(apiOrigin() + TOKENS_PATH, { method: "POST", headers: { ...headers, Authorization: authorization } });
  if (!answer.ok) {
    const body = (await answer.json().catch(() => ({}))) as { error_code?: string; error_msg?: string };
    throw new ApiError(answer.status, body.error_code ?? `HTTP ${answer.status}`, body.error_msg ?? "sign-in failed");
  }
  const token = answer.headers.get("X-Subject-Token");
  if (!token) throw new ApiError(answer.status, "no-token", "the API answered without a token (X-Subject-Token)");
  const { token: about } = (await answer.json()) as TokenAnswer;
  const session = {
    token,
    projectId: about.project.id,
    userId: about.user.id,
    userName: about.user.name,
    expiresAt: about.expires_at,
  };
  saveSession(session);
  return session;
}
