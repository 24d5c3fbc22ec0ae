// O&M engineers and the delivery log: /v1/engineers, /v1/notifications (ours; README
// "O&M engineers and notifications").
import { call, callData, path } from "./client";

export interface Subscription {
  channel: string;
  state: string;
  address: string | null;
  requested_at: number | null;
  expires_at: number | null;
  confirmed_at: number | null;
}

export interface Engineer {
  user_id: string;
  user_name: string;
  alias: string | null;
  source: string;
  identity_provider?: string | null;
  mobile?: string | null;
  email?: string | null;
  wecom_webhook?: string | null;
  dingtalk_webhook?: string | null;
  dingtalk_key?: string | null;
  lark_webhook?: string | null;
  lark_key?: string | null;
}

/** The fields PUT changes; keys are write-only (they read back as "******"). */
export const CONTACT_FIELDS = ["alias", "mobile", "email", "wecom_webhook", "dingtalk_webhook", "dingtalk_key", "lark_webhook", "lark_key"] as const;
export type ContactField = (typeof CONTACT_FIELDS)[number];
export const SECRET_FIELDS: ContactField[] = ["dingtalk_key", "lark_key"];

export interface Delivery {
  channel: string;
  recipient: string;
  user_id?: string;
  status: string;
  attempts: number;
  last_error: string | null;
  sent_time: number | null;
  next_attempt_time: number | null;
}

export interface Notification {
  notification_id: string;
  event: string;
  subject: string;
  subject_id?: string;
  link: string | null;
  create_time: number;
  deliveries: Delivery[];
}

export const listEngineers = (marker?: string) =>
  call<{ data: Engineer[]; count: number; next_marker: string | null }>("GET", "/v1/engineers", {
    query: { limit: 100, marker },
  });

export const syncEngineers = () =>
  callData<{ added: number; kept: number; complete: boolean }>("POST", "/v1/engineers/sync", { body: {} });

export const getEngineer = (userId: string) => callData<Engineer>("GET", path`/v1/engineers/${userId}`);

export const updateEngineer = (userId: string, changes: Partial<Record<ContactField, string | null>>) =>
  callData<Engineer>("PUT", path`/v1/engineers/${userId}`, { body: changes });

export const listSubscriptions = (userId: string) =>
  callData<Subscription[]>("GET", path`/v1/engineers/${userId}/subscriptions`);

export const requestSubscriptions = (userId: string, channels: string[]) =>
  callData<unknown>("POST", path`/v1/engineers/${userId}/subscriptions`, { body: { channels } });

export const listNotifications = (marker?: string) =>
  call<{ data: Notification[]; count: number; next_marker: string | null }>("GET", "/v1/notifications", {
    query: { limit: 50, marker },
  });
