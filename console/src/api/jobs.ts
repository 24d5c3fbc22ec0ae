// Running scripts and their tickets: /v1/job/scripts/{uuid} (execute), /v1/job/script/orders.
import { callData, path } from "./client";

export type OrderStatus = "READY" | "PROCESSING" | "PAUSED" | "ABNORMAL" | "CANCELED" | "FINISHED";
export type InstanceStatus = "READY" | "PROCESSING" | "ABNORMAL" | "CANCELED" | "FINISHED";
export type Operation =
  | "CANCEL_ORDER"
  | "PAUSE_ORDER"
  | "CONTINUE_ORDER"
  | "SKIP_BATCH"
  | "CANCEL_INSTANCE"
  | "RETRY_INSTANCE";

export interface TargetInstance {
  resource_id: string;
  agent_sn: string;
  region_id: string;
  project_id: string;
  provider: "ecs";
  type: "cloudservers";
}

export interface ExecuteBatch {
  batch_index: number;
  target_instances: TargetInstance[];
  rotation_strategy: "CONTINUE" | "PAUSE";
}

export interface ExecuteBody {
  execute_param: {
    resourceful: boolean;
    timeout: number;
    success_rate: number;
    execute_user: string;
    script_params: Array<{ param_name: string; param_value: string; param_order: number }>;
  };
  execute_batches: ExecuteBatch[];
}

export interface OrderRow {
  execute_uuid: string;
  order_name: string;
  status: OrderStatus;
  creator: string;
  gmt_created: number;
  gmt_finished: number | null;
}

export interface OrderInfo {
  execute_uuid: string;
  status: OrderStatus;
  creator: string;
  gmt_created: number;
  gmt_finished: number | null;
  execute_costs: number;
  properties: {
    script_name: string;
    script_uuid: string;
    current_execute_batch_index: number;
    execute_param: { timeout: number; success_rate: number; execute_user: string };
  };
}

export interface BatchSummary {
  batch_index: number;
  total_instances: number;
  rotation_strategy: string;
}

export interface InstanceView {
  id: number;
  status: InstanceStatus;
  message: string;
  exit_code: number | null;
  execute_costs: number;
  target_instance: { resource_id: string; agent_sn: string; agent_status: string | null; properties: { host_name: string | null; fixed_ip: string | null } };
}

export interface Statistics {
  total_instance: number;
  execute_statistics: Array<{ instance_status: InstanceStatus; instance_count: number; batch_indexes: number[] }>;
}

export const executeScript = (scriptUuid: string, body: ExecuteBody) =>
  callData<string>("POST", path`/v1/job/scripts/${scriptUuid}`, { body });

export const listOrders = (status: string | undefined, marker: number | undefined, limit: number) =>
  callData<{ total: number; data: Array<OrderRow & { order_id: number }> }>("GET", "/v1/job/script/orders", {
    query: { status, marker, limit },
  });

export const getOrder = (uuid: string) => callData<OrderInfo>("GET", path`/v1/job/script/orders/${uuid}`);

export const listBatches = (uuid: string) => callData<BatchSummary[]>("GET", path`/v1/job/script/orders/${uuid}/batches`);

export const getStatistics = (uuid: string) =>
  callData<Statistics>("GET", path`/v1/job/script/orders/${uuid}/statistics`);

export const getBatch = (uuid: string, batchIndex: number) =>
  callData<{ batch_index: number; total_instances: number; execute_instances: InstanceView[] }>(
    "GET",
    path`/v1/job/script/orders/${uuid}/batches/${batchIndex}`,
    { query: { limit: 100, marker: 0 } },
  );

export const operateOrder = (uuid: string, operation_type: Operation, extra: { batch_index?: number; instance_id?: number } = {}) =>
  callData<string>("PUT", path`/v1/job/script/orders/${uuid}/operation`, { body: { operation_type, ...extra } });
