import { Anchor, Button, Group, Select, Stack, Table, Text, TextInput, Title } from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { Link } from "react-router";
import { listScripts, type ScriptFilter } from "../api/scripts";
import { QueryState } from "../components/QueryState";
import { StatusBadge } from "../components/StatusBadge";
import { formatTime } from "../components/time";

const PAGE = 20;

export function ScriptsPage() {
  const [filter, setFilter] = useState<ScriptFilter>({});
  const [debounced] = useDebouncedValue(filter, 300);
  // Markers of the pages before this one: the API pages forward from the last id seen.
  const [markers, setMarkers] = useState<number[]>([0]);
  const marker = markers[markers.length - 1];
  const scripts = useQuery({
    queryKey: ["scripts", debounced, marker],
    queryFn: () => listScripts(debounced, marker, PAGE),
    placeholderData: keepPreviousData,
  });
  const change = (patch: ScriptFilter) => {
    setFilter({ ...filter, ...patch });
    setMarkers([0]);
  };
  const rows = scripts.data?.data ?? [];

  return (
    <Stack>
      <Group justify="space-between">
        <Title order={2}>Scripts</Title>
        <Button component={Link} to="/scripts/new">
          New script
        </Button>
      </Group>
      <Group align="end">
        <TextInput label="Name contains" value={filter.name_like ?? ""} onChange={(e) => change({ name_like: e.currentTarget.value })} />
        <TextInput label="Creator" value={filter.creator ?? ""} onChange={(e) => change({ creator: e.currentTarget.value })} />
        <Select label="Risk level" clearable data={["LOW", "MEDIUM", "HIGH"]} value={filter.risk_level ?? null} onChange={(v) => change({ risk_level: v ?? undefined })} />
        <Select label="Type" clearable data={["SHELL", "PYTHON", "BAT"]} value={filter.type ?? null} onChange={(v) => change({ type: v ?? undefined })} />
      </Group>
      <QueryState loading={scripts.isPending} error={scripts.error}>
        <Table striped highlightOnHover>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Name</Table.Th>
              <Table.Th>Type</Table.Th>
              <Table.Th>Risk</Table.Th>
              <Table.Th>Version</Table.Th>
              <Table.Th>Status</Table.Th>
              <Table.Th>Creator</Table.Th>
              <Table.Th>Modified</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {rows.map((script) => (
              <Table.Tr key={script.script_uuid}>
                <Table.Td>
                  <Anchor component={Link} to={`/scripts/${script.script_uuid}`}>
                    {script.name}
                  </Anchor>
                </Table.Td>
                <Table.Td>{script.type}</Table.Td>
                <Table.Td>{script.properties.risk_level}</Table.Td>
                <Table.Td>{script.properties.version}</Table.Td>
                <Table.Td>
                  <StatusBadge status={script.status} />
                </Table.Td>
                <Table.Td>{script.creator}</Table.Td>
                <Table.Td>{formatTime(script.gmt_modified)}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
        {rows.length === 0 && <Text c="dimmed">No scripts match.</Text>}
        <Group>
          <Text size="sm">{scripts.data?.total ?? 0} in all</Text>
          <Button variant="default" size="xs" disabled={markers.length === 1} onClick={() => setMarkers(markers.slice(0, -1))}>
            Previous
          </Button>
          <Button variant="default" size="xs" disabled={rows.length < PAGE} onClick={() => setMarkers([...markers, rows[rows.length - 1].id])}>
            Next
          </Button>
        </Group>
      </QueryState>
    </Stack>
  );
}
