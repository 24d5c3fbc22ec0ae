import { Alert, Button, Checkbox, Group, Paper, Select, Stack, Text, Textarea, TextInput, Timeline, Title } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useParams } from "react-router";
import { errorFor } from "../api/errors";
import { getIncident, getTasks, handleIncident, TYPES, type IncidentDetail, type Task } from "../api/incidents";
import { QueryState } from "../components/QueryState";
import { StatusBadge } from "../components/StatusBadge";
import { formatTime } from "../components/time";

export function IncidentPage() {
  const { num } = useParams() as { num: string };
  const incident = useQuery({ queryKey: ["incident", num], queryFn: () => getIncident(num) });
  const tasks = useQuery({ queryKey: ["incident", num, "tasks"], queryFn: () => getTasks(num) });
  return (
    <QueryState loading={incident.isPending} error={incident.error}>
      {incident.data && (
        <Stack maw={1000}>
          <Group>
            <Title order={2} data-testid="incident-title">{incident.data.incident_title}</Title>
            <span data-testid="incident-status"><StatusBadge status={incident.data.status} /></span>
          </Group>
          <Text size="sm" className="mono">{incident.data.incident_num}</Text>
          <Text data-testid="incident-description">{incident.data.incident_description}</Text>
          <Group gap="xl">
            <Text size="sm">Level {incident.data.incident_level}</Text>
            <Text size="sm">Type {TYPES.find(([key]) => key === incident.data.incident_type)?.[1] ?? incident.data.incident_type}</Text>
            <Text size="sm">Assignee {incident.data.incident_assignee.join(", ")}</Text>
            <Text size="sm">Created {formatTime(incident.data.create_time)} by {incident.data.creator}</Text>
          </Group>
          {incident.data.cause && <Text size="sm">Cause: {incident.data.cause}</Text>}
          {incident.data.solution && <Text size="sm">Solution: {incident.data.solution}</Text>}
          {(tasks.data ?? []).map((task) => <TaskActions key={task.key} num={num} task={task} />)}
          <History incident={incident.data} />
        </Stack>
      )}
    </QueryState>
  );
}

function History({ incident }: { incident: IncidentDetail }) {
  return (
    <Stack gap="xs">
      <Title order={4}>Timeline</Title>
      <Timeline active={incident.history.length} bulletSize={14} lineWidth={2}>
        {incident.history.map((entry, i) => (
          <Timeline.Item key={i} title={`${entry.operate_key} by ${entry.operator}`}>
            <Text size="xs" c="dimmed">
              {formatTime(entry.time)} · {(entry.from_status ?? "new").replace("INCIDENT_STATUS_", "")} → {entry.to_status.replace("INCIDENT_STATUS_", "")}
              {entry.assignee ? ` · to ${entry.assignee}` : ""}
            </Text>
            {entry.comment && <Text size="sm">{entry.comment}</Text>}
          </Timeline.Item>
        ))}
      </Timeline>
    </Stack>
  );
}

type Params = Record<string, string | boolean>;

/** The fields each workflow action takes (README "Incidents and alarms"), with their defaults. */
const ACTION_FIELDS: Record<string, Params> = {
  acceptedIncident1: {},
  rejectedIncident1: { reason: "" },
  commitSolution1: { mtm_type: TYPES[0][0], is_service_interrupt: false, cause: "", solution: "" },
  confirm: { virtual_confirm_result: true, virtual_confirm_comment: "" },
  unAcceptedForward: { virtual_send_assignee: "", virtual_send_comment: "" },
  acceptedForward: { virtual_send_assignee: "", virtual_send_comment: "" },
};

const LABELS: Record<string, string> = {
  reason: "Reason (optional)",
  mtm_type: "Incident type found",
  is_service_interrupt: "The service was interrupted",
  cause: "Cause",
  solution: "Solution",
  virtual_confirm_result: "The fix is verified (unticked: back to the assignee)",
  virtual_confirm_comment: "Comment",
  virtual_send_assignee: "Forward to (engineer's user id)",
  virtual_send_comment: "Comment (optional)",
};

function TaskActions({ num, task }: { num: string; task: Task }) {
  const [chosen, setChosen] = useState<Task["operations"][number] | null>(null);
  const [params, setParams] = useState<Params>({});
  const queries = useQueryClient();
  const act = useMutation({
    mutationFn: () => handleIncident(num, chosen!.key, chosen!.task_id, params),
    onSuccess: async () => {
      setChosen(null);
      await queries.invalidateQueries({ queryKey: ["incident", num] });
    },
  });
  const choose = (operation: Task["operations"][number]) => {
    setChosen(operation);
    setParams({ ...(ACTION_FIELDS[operation.key] ?? {}) });
    act.reset();
  };
  return (
    <Paper withBorder p="sm">
      <Text fw={500} mb="xs">Waiting in: {task.name}{task.assignee ? ` (assignee ${task.assignee})` : ""}</Text>
      <Group>
        {task.operations.map((operation) => (
          <Button key={operation.key} variant={chosen?.key === operation.key ? "filled" : "light"} onClick={() => choose(operation)}>
            {operation.name}
          </Button>
        ))}
      </Group>
      {chosen && (
        <Stack mt="sm" gap="xs">
          {Object.entries(params).map(([field, value]) =>
            typeof value === "boolean" ? (
              <Checkbox key={field} label={LABELS[field] ?? field} checked={value} onChange={(e) => setParams({ ...params, [field]: e.currentTarget.checked })} />
            ) : field === "mtm_type" ? (
              <Select key={field} label={LABELS[field]} data={TYPES.map(([v, label]) => ({ value: v, label }))} allowDeselect={false} value={value} onChange={(v) => setParams({ ...params, [field]: v ?? value })} error={errorFor(act.error, field)} />
            ) : field === "cause" || field === "solution" ? (
              <Textarea key={field} label={LABELS[field]} autosize minRows={2} value={value} onChange={(e) => setParams({ ...params, [field]: e.currentTarget.value })} error={errorFor(act.error, field)} />
            ) : (
              <TextInput key={field} label={LABELS[field] ?? field} value={value} onChange={(e) => setParams({ ...params, [field]: e.currentTarget.value })} error={errorFor(act.error, field)} />
            ),
          )}
          {act.error && !Object.keys(params).some((f) => errorFor(act.error, f)) && <Alert color="red" role="alert">{act.error.message}</Alert>}
          <Group>
            <Button loading={act.isPending} onClick={() => act.mutate()}>Confirm: {chosen.name}</Button>
            <Button variant="default" onClick={() => setChosen(null)}>Cancel</Button>
          </Group>
        </Stack>
      )}
    </Paper>
  );
}
