import { Button, Group, Stack, Table, Text, Title } from "@mantine/core";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { listNotifications } from "../api/engineers";
import { QueryState } from "../components/QueryState";
import { StatusBadge } from "../components/StatusBadge";
import { formatTime } from "../components/time";

/** The delivery log: every notification, newest first, with each delivery's outcome. */
export function NotificationsPage() {
  const [markers, setMarkers] = useState<Array<string | undefined>>([undefined]);
  const marker = markers[markers.length - 1];
  const log = useQuery({ queryKey: ["notifications", marker], queryFn: () => listNotifications(marker), placeholderData: keepPreviousData, refetchInterval: 10_000 });
  return (
    <Stack maw={1200}>
      <Title order={2}>Delivery log</Title>
      <QueryState loading={log.isPending} error={log.error}>
        <Table>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>When</Table.Th>
              <Table.Th>Event</Table.Th>
              <Table.Th>Subject</Table.Th>
              <Table.Th>Deliveries</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {(log.data?.data ?? []).map((n) => (
              <Table.Tr key={n.notification_id}>
                <Table.Td>{formatTime(n.create_time)}</Table.Td>
                <Table.Td>{n.event}</Table.Td>
                <Table.Td>{n.subject}</Table.Td>
                <Table.Td>
                  {n.deliveries.map((d, i) => (
                    <Group key={i} gap="xs">
                      <StatusBadge status={d.status} />
                      <Text size="sm">{d.channel} to <span className="mono">{d.recipient}</span>, {d.attempts} attempt(s){d.last_error ? `: ${d.last_error}` : ""}</Text>
                    </Group>
                  ))}
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
        {log.data?.data.length === 0 && <Text c="dimmed">Nothing was notified yet.</Text>}
        <Group>
          <Text size="sm">{log.data?.count ?? 0} in all</Text>
          <Button variant="default" size="xs" disabled={markers.length === 1} onClick={() => setMarkers(markers.slice(0, -1))}>Newer</Button>
          <Button variant="default" size="xs" disabled={!log.data?.next_marker} onClick={() => setMarkers([...markers, log.data?.next_marker ?? undefined])}>Older</Button>
        </Group>
      </QueryState>
    </Stack>
  );
}
