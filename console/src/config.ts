// Where the API is. Served by coc-local, the console and the API share one origin. Deployed on
// AWS, the bucket holds a config.json written at deploy time: {"api_url": "https://…"}.

let apiBase = "";

export async function loadConfig(): Promise<void> {
  try {
    const answer = await fetch("config.json", { cache: "no-cache" });
    if (!answer.ok) return;
    const config = (await answer.json()) as { api_url?: unknown };
    if (typeof config.api_url === "string") apiBase = config.api_url.replace(/\/+$/, "");
  } catch {
    // No config: the API is on the console's own origin.
  }
}

/** The API's origin, `""` for the console's own. */
export function apiOrigin(): string {
  return apiBase;
}

/** The host a signature must name: the one the browser will send in `Host`. */
export function apiHost(): string {
  return apiBase ? new URL(apiBase).host : window.location.host;
}
