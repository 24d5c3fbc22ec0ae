// Job scripts: /v1/job/scripts (spec 4.2.1–4.2.6).
import { call, callData, path } from "./client";

export type ScriptType = "SHELL" | "PYTHON" | "BAT";
export type RiskLevel = "LOW" | "MEDIUM" | "HIGH";
export type ScriptStatus = "PENDING_APPROVE" | "APPROVED" | "REJECTED";

export interface Reviewer {
  reviewer_name: string;
  reviewer_id: string;
}

export interface ScriptParam {
  param_name: string;
  param_value: string;
  param_description: string;
  param_order: number;
  sensitive: boolean;
}

export interface ScriptProperties {
  risk_level: RiskLevel;
  version: string;
  reviewers?: Reviewer[];
  protocol?: string;
}

export interface ScriptRow {
  id: number;
  script_uuid: string;
  name: string;
  type: ScriptType;
  status: ScriptStatus;
  gmt_created: number;
  gmt_modified: number;
  creator: string;
  properties: ScriptProperties;
}

export interface Review {
  reviewer_id?: string;
  reviewer_name?: string;
  status?: string;
  comments?: string;
  revision?: number;
  [more: string]: unknown;
}

export interface ScriptDetail extends ScriptRow {
  description: string;
  content: string;
  script_params: ScriptParam[];
  reviews: Review[];
  revision: number;
  fingerprint: string;
}

export interface ScriptFilter {
  name_like?: string;
  creator?: string;
  risk_level?: string;
  type?: string;
}

export interface ScriptBody {
  name?: string;
  type?: ScriptType;
  description: string;
  content: string;
  properties: ScriptProperties;
  script_params: ScriptParam[];
}

export const listScripts = (filter: ScriptFilter, marker: number, limit: number) =>
  callData<{ total: number; data: ScriptRow[] }>("GET", "/v1/job/scripts", { query: { ...filter, marker, limit } });

export const getScript = (uuid: string) => callData<ScriptDetail>("GET", path`/v1/job/scripts/${uuid}`);

export const createScript = (body: ScriptBody) => callData<string>("POST", "/v1/job/scripts", { body });

export const updateScript = (uuid: string, body: ScriptBody) =>
  callData<string>("PUT", path`/v1/job/scripts/${uuid}`, { body });

export const deleteScript = (uuid: string) => call<unknown>("DELETE", path`/v1/job/scripts/${uuid}`);

/** A decision about exactly `revision`: a newer one is refused (409) instead of approved unseen. */
export const reviewScript = (uuid: string, status: "APPROVED" | "REJECTED", comments: string, revision: number) =>
  callData<boolean>("POST", path`/v1/job/scripts/${uuid}/action`, { body: { status, comments, revision } });
