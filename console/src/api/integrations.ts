// Alarm integrations and their alarms: /v1/integrations (ours; README "Incidents and alarms").
import { call, path } from "./client";

export interface Integration {
  integration_id: string;
  integration_key: string;
  name: string;
  alarm_level_threshold: string;
  incident_level: string;
  incident_type: string;
  incident_assignee: string;
  creator: string;
  create_time: number;
  intake_path: string;
  prometheus_intake_path: string;
  auto_recover_incident: boolean;
}

export interface Alarm {
  id: string;
  alarm_id: string;
  alarm_name: string;
  alarm_level: string;
  alarm_status: string;
  occurrences: number;
  first_seen: number;
  last_seen: number;
  incident_num: string | null;
}

export interface NewIntegration {
  name: string;
  alarm_level_threshold: string;
  incident_level: string;
  auto_recover_incident: boolean;
}

interface Page<T> {
  data: T[];
  count: number;
  next_marker: string | null;
}

export const listIntegrations = () => call<Page<Integration>>("GET", "/v1/integrations", { query: { limit: 100 } });

export const createIntegration = (integration: NewIntegration) =>
  call<{ data: Integration }>("POST", "/v1/integrations", { body: integration }).then((answer) => answer.data);

export const listAlarms = (integrationId: string) =>
  call<Page<Alarm>>("GET", path`/v1/integrations/${integrationId}/alarms`, { query: { limit: 50 } });
