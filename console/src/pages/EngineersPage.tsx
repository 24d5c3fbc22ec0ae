import { Alert, Anchor, Button, Group, Stack, Table, Text, Title } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Link } from "react-router";
import { listEngineers, syncEngineers } from "../api/engineers";
import { QueryState } from "../components/QueryState";

export function EngineersPage() {
  const engineers = useQuery({ queryKey: ["engineers"], queryFn: () => listEngineers() });
  const queries = useQueryClient();
  const sync = useMutation({ mutationFn: syncEngineers, onSuccess: () => queries.invalidateQueries({ queryKey: ["engineers"] }) });
  return (
    <Stack>
      <Group justify="space-between">
        <Title order={2}>O&amp;M engineers</Title>
        <Button loading={sync.isPending} onClick={() => sync.mutate()}>Synchronize users</Button>
      </Group>
      {sync.data && <Alert color="green">Synchronized: {sync.data.added} added, {sync.data.kept} kept.</Alert>}
      {sync.error && <Alert color="red" role="alert">{sync.error.message}</Alert>}
      <QueryState loading={engineers.isPending} error={engineers.error}>
        <Table striped>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>User id</Table.Th>
              <Table.Th>Name</Table.Th>
              <Table.Th>Alias</Table.Th>
              <Table.Th>Source</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {(engineers.data?.data ?? []).map((engineer) => (
              <Table.Tr key={engineer.user_id}>
                <Table.Td className="mono">
                  <Anchor component={Link} to={`/engineers/${encodeURIComponent(engineer.user_id)}`}>{engineer.user_id}</Anchor>
                </Table.Td>
                <Table.Td>{engineer.user_name}</Table.Td>
                <Table.Td>{engineer.alias ?? ""}</Table.Td>
                <Table.Td>{engineer.source}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
        {engineers.data?.data.length === 0 && <Text c="dimmed">No engineers: synchronize to make every user of the project one.</Text>}
      </QueryState>
    </Stack>
  );
}
