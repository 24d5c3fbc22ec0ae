import { Stack, Table, Text, Title } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { listHosts } from "../api/resources";
import { QueryState } from "../components/QueryState";
import { StatusBadge } from "../components/StatusBadge";
import { formatTime } from "../components/time";

export function ResourcesPage() {
  const hosts = useQuery({ queryKey: ["hosts"], queryFn: listHosts, refetchInterval: 10_000 });
  return (
    <Stack>
      <Title order={2}>Resources</Title>
      <QueryState loading={hosts.isPending} error={hosts.error}>
        <Table striped>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Host</Table.Th>
              <Table.Th>IP</Table.Th>
              <Table.Th>OS</Table.Th>
              <Table.Th>Agent</Table.Th>
              <Table.Th>State</Table.Th>
              <Table.Th>Last heartbeat</Table.Th>
              <Table.Th>Registered</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {(hosts.data ?? []).map((host) => (
              <Table.Tr key={host.id}>
                <Table.Td>{host.name}</Table.Td>
                <Table.Td>{host.inner_ip}</Table.Td>
                <Table.Td>{host.properties.os_type}</Table.Td>
                <Table.Td className="mono">{host.agent_id}</Table.Td>
                <Table.Td><StatusBadge status={host.agent_state} /></Table.Td>
                <Table.Td>{formatTime(host.update_time)}</Table.Td>
                <Table.Td>{formatTime(host.create_time)}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
        {hosts.data?.length === 0 && <Text c="dimmed">No hosts yet: start coc-agent on a host with an activation (README "Running scripts on hosts").</Text>}
      </QueryState>
    </Stack>
  );
}
