import { Anchor, Button, Group, Select, Stack, Table, Text, TextInput, Title } from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { Link } from "react-router";
import { LEVELS, listIncidents, STATUSES, type IncidentFilter } from "../api/incidents";
import { QueryState } from "../components/QueryState";
import { StatusBadge } from "../components/StatusBadge";
import { formatTime } from "../components/time";

const PER_PAGE = 20;

export function IncidentsPage() {
  const [filter, setFilter] = useState<IncidentFilter>({});
  const [debounced] = useDebouncedValue(filter, 300);
  const [page, setPage] = useState(1);
  const incidents = useQuery({
    queryKey: ["incidents", debounced, page],
    queryFn: () => listIncidents(debounced, page, PER_PAGE),
    placeholderData: keepPreviousData,
  });
  const change = (patch: IncidentFilter) => {
    setFilter({ ...filter, ...patch });
    setPage(1);
  };
  const rows = incidents.data?.list ?? [];
  const total = incidents.data?.total ?? 0;
  return (
    <Stack>
      <Group justify="space-between">
        <Title order={2}>Incidents</Title>
        <Button component={Link} to="/incidents/new">New incident</Button>
      </Group>
      <Group align="end">
        <TextInput label="Title contains" value={filter.title ?? ""} onChange={(e) => change({ title: e.currentTarget.value })} />
        <Select label="Status" clearable data={STATUSES.map((s) => ({ value: s, label: s.replace("INCIDENT_STATUS_", "") }))} value={filter.status ?? null} onChange={(v) => change({ status: v ?? undefined })} />
        <Select label="Level" clearable data={[...LEVELS]} value={filter.level ?? null} onChange={(v) => change({ level: v ?? undefined })} />
        <TextInput label="Assignee" value={filter.assignee ?? ""} onChange={(e) => change({ assignee: e.currentTarget.value })} />
      </Group>
      <QueryState loading={incidents.isPending} error={incidents.error}>
        <Table striped highlightOnHover>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Incident</Table.Th>
              <Table.Th>Title</Table.Th>
              <Table.Th>Level</Table.Th>
              <Table.Th>Status</Table.Th>
              <Table.Th>Assignee</Table.Th>
              <Table.Th>Created</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {rows.map((incident) => (
              <Table.Tr key={incident.ticket_id}>
                <Table.Td>
                  <Anchor component={Link} to={`/incidents/${incident.ticket_id}`} className="mono">{incident.ticket_id}</Anchor>
                </Table.Td>
                <Table.Td data-testid="incident-title">{incident.title}</Table.Td>
                <Table.Td>{incident.level_id}</Table.Td>
                <Table.Td><StatusBadge status={incident.work_flow_status} /></Table.Td>
                <Table.Td>{incident.assignee}</Table.Td>
                <Table.Td>{formatTime(incident.create_time)}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
        {rows.length === 0 && <Text c="dimmed">No incidents match.</Text>}
        <Group>
          <Text size="sm">{total} in all</Text>
          <Button variant="default" size="xs" disabled={page === 1} onClick={() => setPage(page - 1)}>Previous</Button>
          <Button variant="default" size="xs" disabled={page * PER_PAGE >= total} onClick={() => setPage(page + 1)}>Next</Button>
        </Group>
      </QueryState>
    </Stack>
  );
}
