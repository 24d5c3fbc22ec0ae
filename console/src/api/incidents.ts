// Incidents: v1 create/handle/detail and the v2 list and tasks. Answers come in the envelope
// {"provider_code", "error_code", "error_msg", "data"}; `call` already turns errors into ApiError.
import { call, path } from "./client";

export const LEVELS = ["level_10", "level_20", "level_30", "level_40", "level_50"] as const;
export const TYPES: Array<[string, string]> = [
  ["inc_type_p_security_issues", "Security issues"],
  ["inc_type_p_function_issues", "Function issues"],
  ["inc_type_p_reliability_issues", "Reliability issues"],
  ["inc_type_p_config_issues", "Config issues"],
  ["inc_type_p_middleware_issues", "Middleware issues"],
  ["inc_type_p_hardware_issues", "Hardware issues"],
  ["inc_type_p_networking_issues", "Networking issues"],
  ["inc_type_p_shelter_issues", "Shelter issues"],
  ["inc_type_p_monitoring_issues", "Monitoring issues"],
  ["inc_type_p_consulting_issues", "Consulting issues"],
  ["inc_type_p_suppliers_issues", "Suppliers issues"],
  ["inc_type_p_ohter_issues", "Other issues"],
  ["inc_type_p_change_issues", "Change operation problem"],
];
export const STATUSES = ["TRIGGERED", "ACKNOWLEDGED", "RESOLVED", "COMPLETED", "REJECTED"].map(
  (name) => `INCIDENT_STATUS_${name}`,
);

interface Envelope<T> {
  error_code: string;
  error_msg: string | null;
  data: T;
}

async function enveloped<T>(method: string, apiPath: string, body?: unknown): Promise<T> {
  return (await call<Envelope<T>>(method, apiPath, { body })).data;
}

export interface IncidentRow {
  ticket_id: string;
  title: string;
  level_id: string;
  work_flow_status: string;
  assignee: string | null;
  creator: string;
  create_time: string;
  mtm_type: string;
}

export interface HistoryEntry {
  operate_key: string;
  operator: string;
  from_status: string | null;
  to_status: string;
  time: number;
  comment?: string;
  assignee?: string;
}

export interface IncidentDetail {
  incident_num: string;
  incident_title: string;
  incident_description: string;
  incident_level: string;
  incident_type: string;
  incident_source: string;
  incident_assignee: string[];
  status: string;
  creator: string;
  create_time: number;
  cause: string | null;
  solution: string | null;
  history: HistoryEntry[];
}

export interface Task {
  key: string;
  name: string;
  assignee: string | null;
  operations: Array<{ task_id: string; key: string; name: string }>;
}

export interface IncidentFilter {
  status?: string;
  level?: string;
  title?: string;
  assignee?: string;
}

export interface NewIncident {
  incident_title: string;
  incident_description: string;
  incident_level: string;
  incident_type: string;
  incident_assignee: string[];
  current_cloud_service: string[];
  is_service_interrupt: boolean;
  /** The spec requires it; the signed-in user. */
  creator: string;
}

function filters(filter: IncidentFilter) {
  const wanted: Array<[string, string, string | undefined]> = [
    ["work_flow_status", "=", filter.status],
    ["level_id", "=", filter.level],
    ["title", "like", filter.title],
    ["assignee", "=", filter.assignee],
  ];
  return wanted
    .filter(([, , value]) => value)
    .map(([field, operator, value]) => ({ field, operator, values: [value as string] }));
}

export const listIncidents = (filter: IncidentFilter, page: number, perPage: number) =>
  enveloped<{ total: number | null; list: IncidentRow[] }>("POST", "/v2/incidents/list", {
    string_filters: filters(filter),
    page,
    per_page: perPage,
  });

export const createIncident = (incident: NewIncident) =>
  enveloped<{ incident_num: string }>("POST", "/v1/external/incident/create", {
    ...incident,
    incident_source: "incident_source_manual",
  });

export const getIncident = (num: string) => enveloped<IncidentDetail>("GET", path`/v1/external/incident/${num}`);

export const getTasks = (num: string) => enveloped<Task[]>("GET", path`/v2/incidents/${num}/tasks`);

/** An action of the current task; the task id makes a decision taken on a stale page fail. */
export const handleIncident = (num: string, action: string, taskId: string, params: Record<string, unknown>) =>
  enveloped<unknown>("POST", path`/v2/incidents/${num}/actions`, { action, task_id: taskId, params });
