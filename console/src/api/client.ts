// Every call after sign-in: JSON over fetch with the session's X-Auth-Token.
import { apiOrigin } from "../config";
import { buildQuery } from "../signing";
import { ApiError } from "./errors";
import { endSession, loadSession } from "./session";

export const EXPIRED_NOTICE = "Your session expired: sign in again.";

export type Query = Record<string, string | number | boolean | undefined | null | Array<string>>;

export interface CallOptions {
  query?: Query;
  body?: unknown;
}

/** `/v1/job/scripts/{uuid}`: each segment encoded, so an id can never change the path. */
export function path(strings: TemplateStringsArray, ...segments: Array<string | number>): string {
  return strings.reduce((out, piece, i) => out + piece + (i < segments.length ? encodeURIComponent(String(segments[i])) : ""), "");
}

export function queryPairs(query: Query = {}): Array<[string, string]> {
  const pairs: Array<[string, string]> = [];
  for (const [name, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === "") continue;
    for (const one of Array.isArray(value) ? value : [value]) pairs.push([name, String(one)]);
  }
  return pairs;
}

async function failure(answer: Response): Promise<ApiError> {
  let code = `HTTP ${answer.status}`;
  let message = answer.statusText || "the request failed";
  try {
    const body = (await answer.json()) as { error_code?: string; error_msg?: string; message?: string };
    code = body.error_code ?? code;
    message = body.error_msg ?? body.message ?? message;
  } catch {
    // Not JSON (a proxy's page): the status says enough.
  }
  return new ApiError(answer.status, code, message);
}

/** Calls the API; a 401 ends the session (the app then shows sign-in with EXPIRED_NOTICE). */
export async function call<T>(method: string, apiPath: string, options: CallOptions = {}): Promise<T> {
  const session = loadSession();
  if (!session) throw new ApiError(401, "COC.00040401", "not signed in");
  const query = buildQuery(queryPairs(options.query));
  const headers: Record<string, string> = { "X-Auth-Token": session.token };
  if (options.body !== undefined) headers["Content-Type"] = "application/json;charset=utf-8";
  const answer = await fetch(`${apiOrigin()}${apiPath}${query ? "?" + query : ""}`, {
    method,
    headers,
    body: options.body === undefined ? undefined : JSON.stringify(options.body),
  });
  if (answer.status === 401) {
    endSession(EXPIRED_NOTICE);
    throw await failure(answer);
  }
  if (!answer.ok) throw await failure(answer);
  const text = await answer.text();
  return (text ? JSON.parse(text) : null) as T;
}

/** The `data` of an answer `{"data": …}` (scripts, tickets, resources, engineers…). */
export async function callData<T>(method: string, apiPath: string, options: CallOptions = {}): Promise<T> {
  return (await call<{ data: T }>(method, apiPath, options)).data;
}
