// O&M engineers: /v1/engineers (ours; see README "O&M engineers and subscriptions").
import { call, callData, path } from "./client";

export interface Engineer {
  user_id: string;
  user_name: string;
  alias?: string | null;
  source: string;
  [more: string]: unknown;
}

export const listEngineers = (marker?: string) =>
  call<{ data: Engineer[]; count: number; next_marker: string | null }>("GET", "/v1/engineers", {
    query: { limit: 100, marker },
  });

export const syncEngineers = () =>
  callData<{ added: number; kept: number; complete: boolean }>("POST", "/v1/engineers/sync", { body: {} });

export const getEngineer = (userId: string) => callData<Engineer>("GET", path`/v1/engineers/${userId}`);
