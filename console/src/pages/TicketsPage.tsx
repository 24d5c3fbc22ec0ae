import { Anchor, Button, Group, Select, Stack, Table, Text, Title } from "@mantine/core";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { Link } from "react-router";
import { listOrders } from "../api/jobs";
import { QueryState } from "../components/QueryState";
import { StatusBadge } from "../components/StatusBadge";
import { formatTime } from "../components/time";

const PAGE = 20;
const STATUSES = ["READY", "PROCESSING", "PAUSED", "ABNORMAL", "CANCELED", "FINISHED"];

export function TicketsPage() {
  const [status, setStatus] = useState<string | null>(null);
  // Newest first; the marker is the last row's order_id.
  const [markers, setMarkers] = useState<Array<number | undefined>>([undefined]);
  const marker = markers[markers.length - 1];
  const orders = useQuery({
    queryKey: ["orders", status, marker],
    queryFn: () => listOrders(status ?? undefined, marker, PAGE),
    placeholderData: keepPreviousData,
    refetchInterval: 5000,
  });
  const rows = orders.data?.data ?? [];
  return (
    <Stack>
      <Title order={2}>Tickets</Title>
      <Select label="Status" clearable w={200} data={STATUSES} value={status} onChange={(v) => { setStatus(v); setMarkers([undefined]); }} />
      <QueryState loading={orders.isPending} error={orders.error}>
        <Table striped highlightOnHover>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Ticket</Table.Th>
              <Table.Th>Script</Table.Th>
              <Table.Th>Status</Table.Th>
              <Table.Th>Creator</Table.Th>
              <Table.Th>Created</Table.Th>
              <Table.Th>Finished</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {rows.map((order) => (
              <Table.Tr key={order.execute_uuid}>
                <Table.Td>
                  <Anchor component={Link} to={`/tickets/${order.execute_uuid}`} className="mono">
                    {order.execute_uuid}
                  </Anchor>
                </Table.Td>
                <Table.Td>{order.order_name}</Table.Td>
                <Table.Td><StatusBadge status={order.status} /></Table.Td>
                <Table.Td>{order.creator}</Table.Td>
                <Table.Td>{formatTime(order.gmt_created)}</Table.Td>
                <Table.Td>{formatTime(order.gmt_finished)}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
        {rows.length === 0 && <Text c="dimmed">No tickets. Run an approved script to make one.</Text>}
        <Group>
          <Text size="sm">{orders.data?.total ?? 0} in all</Text>
          <Button variant="default" size="xs" disabled={markers.length === 1} onClick={() => setMarkers(markers.slice(0, -1))}>Previous</Button>
          <Button variant="default" size="xs" disabled={rows.length < PAGE} onClick={() => setMarkers([...markers, rows[rows.length - 1].order_id])}>Next</Button>
        </Group>
      </QueryState>
    </Stack>
  );
}
