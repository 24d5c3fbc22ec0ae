// Which ticket operations the spec (and Order::operate) allows in which state, so the ticket page
// offers only those. The server still decides: a race is answered 409 and shown.
import type { InstanceStatus, OrderStatus } from "../api/jobs";

const TERMINAL_ORDER: OrderStatus[] = ["ABNORMAL", "CANCELED", "FINISHED"];
const OPEN_INSTANCE: InstanceStatus[] = ["READY", "PROCESSING"];

export const isOver = (order: OrderStatus) => TERMINAL_ORDER.includes(order);
export const canPause = (order: OrderStatus) => order === "READY" || order === "PROCESSING";
export const canContinue = (order: OrderStatus) => order === "PAUSED";
export const canCancelOrder = (order: OrderStatus) => !isOver(order);

export const canSkipBatch = (order: OrderStatus, instances: InstanceStatus[]) =>
  !isOver(order) && instances.some((status) => OPEN_INSTANCE.includes(status));

export const canCancelInstance = (order: OrderStatus, instance: InstanceStatus) =>
  !isOver(order) && OPEN_INSTANCE.includes(instance);

export const canRetryInstance = (order: OrderStatus, instance: InstanceStatus) =>
  order !== "CANCELED" && (instance === "ABNORMAL" || instance === "CANCELED");
