import { Alert, Anchor, Button, Checkbox, CopyButton, Fieldset, Group, Select, Stack, Table, Text, TextInput, Title } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Link } from "react-router";
import { errorFor, generalError } from "../api/errors";
import { LEVELS } from "../api/incidents";
import { createIntegration, listAlarms, listIntegrations, type Integration, type NewIntegration } from "../api/integrations";
import { apiOrigin } from "../config";
import { QueryState } from "../components/QueryState";
import { StatusBadge } from "../components/StatusBadge";
import { formatTime } from "../components/time";

/** Where monitoring posts: the API's own origin (the console's, under coc-local). */
function intakeUrl(intakePath: string): string {
  return (apiOrigin() || window.location.origin) + intakePath;
}

export function IntegrationsPage() {
  const integrations = useQuery({ queryKey: ["integrations"], queryFn: listIntegrations });
  const [open, setOpen] = useState<string | null>(null);
  return (
    <Stack maw={1100}>
      <Title order={2}>Alarm integrations</Title>
      <NewIntegrationForm />
      <QueryState loading={integrations.isPending} error={integrations.error}>
        {(integrations.data?.data ?? []).map((integration) => (
          <IntegrationCard key={integration.integration_id} integration={integration} open={open === integration.integration_id} onToggle={() => setOpen(open === integration.integration_id ? null : integration.integration_id)} />
        ))}
        {integrations.data?.data.length === 0 && <Text c="dimmed">No integrations yet.</Text>}
      </QueryState>
    </Stack>
  );
}

function NewIntegrationForm() {
  const [integration, setIntegration] = useState<NewIntegration>({ name: "", alarm_level_threshold: "Major", incident_level: "level_30", auto_recover_incident: false });
  const queries = useQueryClient();
  const create = useMutation({
    mutationFn: () => createIntegration(integration),
    onSuccess: () => {
      setIntegration({ ...integration, name: "" });
      return queries.invalidateQueries({ queryKey: ["integrations"] });
    },
  });
  const set = (patch: Partial<NewIntegration>) => setIntegration({ ...integration, ...patch });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate();
  };
  const fields = ["name", "alarm_level_threshold", "incident_level", "incident_assignee"];
  return (
    <form onSubmit={submit} aria-label="New integration">
      <Fieldset legend="New integration">
        <Group align="start">
          <TextInput label="Integration name" required value={integration.name} onChange={(e) => set({ name: e.currentTarget.value })} error={errorFor(create.error, "name")} />
          <Select label="Opens incidents from level" data={["Critical", "Major", "Minor", "Info"]} allowDeselect={false} value={integration.alarm_level_threshold} onChange={(v) => set({ alarm_level_threshold: v ?? "Major" })} />
          <Select label="Incident level" data={[...LEVELS]} allowDeselect={false} value={integration.incident_level} onChange={(v) => set({ incident_level: v ?? "level_30" })} />
          <Checkbox mt={32} label="A cleared alarm resolves its incident" checked={integration.auto_recover_incident} onChange={(e) => set({ auto_recover_incident: e.currentTarget.checked })} />
          <Button mt={24} type="submit" loading={create.isPending}>Create integration</Button>
        </Group>
        {generalError(create.error, fields) && <Alert mt="xs" color="red" role="alert">{generalError(create.error, fields)}</Alert>}
        {errorFor(create.error, "incident_assignee") && <Alert mt="xs" color="red" role="alert">{errorFor(create.error, "incident_assignee")} (synchronize engineers first)</Alert>}
      </Fieldset>
    </form>
  );
}

function IntegrationCard({ integration, open, onToggle }: { integration: Integration; open: boolean; onToggle: () => void }) {
  return (
    <Fieldset legend={integration.name} data-testid={`integration-${integration.name}`}>
      <Stack gap="xs">
        <Text size="sm">
          Incidents from {integration.alarm_level_threshold} alarms, at {integration.incident_level}, assigned to {integration.incident_assignee}; created {formatTime(integration.create_time)}
        </Text>
        <IntakeUrl label="Custom events" url={intakeUrl(integration.intake_path)} />
        <IntakeUrl label="Alertmanager webhook" url={intakeUrl(integration.prometheus_intake_path)} />
        <Group>
          <Button variant="light" size="xs" onClick={onToggle}>{open ? "Hide alarms" : "Show recent alarms"}</Button>
        </Group>
        {open && <Alarms integrationId={integration.integration_id} />}
      </Stack>
    </Fieldset>
  );
}

/** The key is the intake's credential: shown only as part of the URL, for copying into monitoring. */
function IntakeUrl({ label, url }: { label: string; url: string }) {
  return (
    <Group gap="xs" wrap="nowrap">
      <Text size="sm" w={170}>{label}</Text>
      <TextInput readOnly value={url} aria-label={`${label} intake URL`} className="mono" style={{ flex: 1 }} />
      <CopyButton value={url}>
        {({ copied, copy }) => (
          <Button size="xs" variant={copied ? "filled" : "default"} onClick={copy}>
            {copied ? "Copied" : `Copy ${label.toLowerCase()} URL`}
          </Button>
        )}
      </CopyButton>
    </Group>
  );
}

function Alarms({ integrationId }: { integrationId: string }) {
  const alarms = useQuery({ queryKey: ["integrations", integrationId, "alarms"], queryFn: () => listAlarms(integrationId), refetchInterval: 5000 });
  return (
    <QueryState loading={alarms.isPending} error={alarms.error}>
      <Table>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Alarm</Table.Th>
            <Table.Th>Level</Table.Th>
            <Table.Th>State</Table.Th>
            <Table.Th>Times</Table.Th>
            <Table.Th>Last reported</Table.Th>
            <Table.Th>Incident</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {(alarms.data?.data ?? []).map((alarm) => (
            <Table.Tr key={alarm.id}>
              <Table.Td>{alarm.alarm_name}</Table.Td>
              <Table.Td>{alarm.alarm_level}</Table.Td>
              <Table.Td><StatusBadge status={alarm.alarm_status} /></Table.Td>
              <Table.Td>{alarm.occurrences}</Table.Td>
              <Table.Td>{formatTime(alarm.last_seen)}</Table.Td>
              <Table.Td>
                {alarm.incident_num && <Anchor component={Link} to={`/incidents/${alarm.incident_num}`} className="mono">{alarm.incident_num}</Anchor>}
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      {alarms.data?.data.length === 0 && <Text c="dimmed" size="sm">No alarms reported yet.</Text>}
    </QueryState>
  );
}
