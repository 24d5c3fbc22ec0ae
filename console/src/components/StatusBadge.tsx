import { Badge } from "@mantine/core";

const COLORS: Record<string, string> = {
  APPROVED: "green",
  FINISHED: "green",
  COMPLETED: "green",
  ONLINE: "green",
  PENDING_APPROVE: "yellow",
  PAUSED: "yellow",
  READY: "gray",
  PROCESSING: "blue",
  ACKNOWLEDGED: "blue",
  RESOLVED: "teal",
  TRIGGERED: "orange",
  REJECTED: "red",
  ABNORMAL: "red",
  CANCELED: "gray",
  OFFLINE: "red",
  COMPLIANT: "green",
  NON_COMPLIANT: "red",
  ALARM: "red",
  OK: "green",
  CONFIRMED: "green",
  PENDING: "yellow",
  EXPIRED: "red",
  UNSUBSCRIBED: "gray",
  SENT: "green",
  FAILED: "red",
};

export function StatusBadge({ status }: { status: string | null | undefined }) {
  const shown = (status ?? "UNKNOWN").replace(/^INCIDENT_STATUS_/, "");
  return (
    <Badge color={COLORS[shown] ?? "gray"} variant="light" data-status={shown}>
      {shown.replace(/_/g, " ")}
    </Badge>
  );
}
