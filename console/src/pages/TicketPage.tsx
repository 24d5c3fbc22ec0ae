import { Alert, Badge, Button, Card, Group, Progress, Stack, Table, Text, Title } from "@mantine/core";
import { useMutation, useQueries, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect } from "react";
import { useParams } from "react-router";
import { getBatch, getOrder, getStatistics, listBatches, operateOrder, type InstanceView, type Operation, type OrderInfo } from "../api/jobs";
import { LogView } from "../components/LogView";
import { QueryState } from "../components/QueryState";
import { StatusBadge } from "../components/StatusBadge";
import { formatTime } from "../components/time";
import { canCancelInstance, canCancelOrder, canContinue, canPause, canRetryInstance, canSkipBatch, isOver } from "../rules/operations";

const POLL_MS = 1000;

/** A ticket, live: it polls while the ticket runs and stops once it is over. */
export function TicketPage() {
  const { uuid } = useParams() as { uuid: string };
  const poll = (over: boolean) => (over ? false : POLL_MS);
  const order = useQuery({
    queryKey: ["order", uuid],
    queryFn: () => getOrder(uuid),
    refetchInterval: (query) => poll(!!query.state.data && isOver(query.state.data.status)),
  });
  const over = !!order.data && isOver(order.data.status);
  const batches = useQuery({ queryKey: ["order", uuid, "batches"], queryFn: () => listBatches(uuid) });
  const stats = useQuery({ queryKey: ["order", uuid, "stats"], queryFn: () => getStatistics(uuid), refetchInterval: poll(over) });
  // Once the ticket is over the polls stop: read everything once more, so the last logs show.
  const queries = useQueryClient();
  useEffect(() => {
    if (over) void queries.invalidateQueries({ queryKey: ["order", uuid], predicate: (q) => q.queryKey.length > 2 });
  }, [over, uuid, queries]);
  const details = useQueries({
    queries: (batches.data ?? []).map((batch) => ({
      queryKey: ["order", uuid, "batch", batch.batch_index],
      queryFn: () => getBatch(uuid, batch.batch_index),
      refetchInterval: poll(over),
    })),
  });

  return (
    <QueryState loading={order.isPending} error={order.error}>
      {order.data && (
        <Stack maw={1100}>
          <Group justify="space-between">
            <Group>
              <Title order={2}>{order.data.properties.script_name}</Title>
              <span data-testid="ticket-status"><StatusBadge status={order.data.status} /></span>
            </Group>
            <OrderActions order={order.data} />
          </Group>
          <Group gap="xl">
            <Text size="sm" className="mono">{order.data.execute_uuid}</Text>
            <Text size="sm">By {order.data.creator}</Text>
            <Text size="sm">Started {formatTime(order.data.gmt_created)}</Text>
            {order.data.gmt_finished && <Text size="sm">Ended {formatTime(order.data.gmt_finished)}</Text>}
            <Text size="sm">Timeout {order.data.properties.execute_param.timeout} s · success rate {order.data.properties.execute_param.success_rate} % · as {order.data.properties.execute_param.execute_user}</Text>
          </Group>
          {stats.data && (
            <Group gap="xs">
              {stats.data.execute_statistics.filter((s) => s.instance_count > 0).map((s) => (
                <Badge key={s.instance_status} variant="outline">{s.instance_status}: {s.instance_count}</Badge>
              ))}
            </Group>
          )}
          {(batches.data ?? []).map((batch, i) => {
            const instances = details[i]?.data?.execute_instances ?? [];
            const done = instances.filter((x) => ["FINISHED", "ABNORMAL", "CANCELED"].includes(x.status)).length;
            const current = order.data.properties.current_execute_batch_index === batch.batch_index;
            return (
              <Card withBorder key={batch.batch_index} data-testid={`batch-${batch.batch_index}`}>
                <Group justify="space-between" mb="xs">
                  <Group>
                    <Title order={4}>Batch {batch.batch_index}</Title>
                    {current && !isOver(order.data.status) && <Badge>current</Badge>}
                    <Text size="sm">{done} / {batch.total_instances} done · then {batch.rotation_strategy === "PAUSE" ? "pause" : "continue"}</Text>
                  </Group>
                  {canSkipBatch(order.data.status, instances.map((x) => x.status)) && (
                    <OperationButton uuid={uuid} operation="SKIP_BATCH" extra={{ batch_index: batch.batch_index }} label={`Skip batch ${batch.batch_index}`} />
                  )}
                </Group>
                <Progress value={batch.total_instances ? (100 * done) / batch.total_instances : 0} mb="sm" aria-label={`Batch ${batch.batch_index} progress`} />
                {instances.map((instance) => (
                  <InstanceRow key={instance.id} uuid={uuid} order={order.data} instance={instance} />
                ))}
              </Card>
            );
          })}
        </Stack>
      )}
    </QueryState>
  );
}

function OrderActions({ order }: { order: OrderInfo }) {
  const uuid = order.execute_uuid;
  return (
    <Group>
      {canPause(order.status) && <OperationButton uuid={uuid} operation="PAUSE_ORDER" label="Pause" />}
      {canContinue(order.status) && <OperationButton uuid={uuid} operation="CONTINUE_ORDER" label="Continue" />}
      {canCancelOrder(order.status) && <OperationButton uuid={uuid} operation="CANCEL_ORDER" label="Cancel ticket" color="red" />}
    </Group>
  );
}

function InstanceRow({ uuid, order, instance }: { uuid: string; order: OrderInfo; instance: InstanceView }) {
  const host = instance.target_instance;
  const name = host.properties.host_name || host.agent_sn;
  return (
    <Stack gap={4} mb="sm" data-testid={`instance-${instance.id}`}>
      <Table>
        <Table.Tbody>
          <Table.Tr>
            <Table.Td w={220}>{name}</Table.Td>
            <Table.Td w={140}>{host.properties.fixed_ip}</Table.Td>
            <Table.Td w={140}><StatusBadge status={instance.status} /></Table.Td>
            <Table.Td w={120}>{instance.exit_code === null ? "" : `exit ${instance.exit_code}`}</Table.Td>
            <Table.Td w={120}>{(instance.execute_costs / 1000).toFixed(1)} s</Table.Td>
            <Table.Td>
              <Group gap="xs" justify="end">
                {canCancelInstance(order.status, instance.status) && (
                  <OperationButton uuid={uuid} operation="CANCEL_INSTANCE" extra={{ instance_id: instance.id }} label={`Cancel ${name}`} size="xs" />
                )}
                {canRetryInstance(order.status, instance.status) && (
                  <OperationButton uuid={uuid} operation="RETRY_INSTANCE" extra={{ instance_id: instance.id }} label={`Retry ${name}`} size="xs" />
                )}
              </Group>
            </Table.Td>
          </Table.Tr>
        </Table.Tbody>
      </Table>
      <LogView text={instance.message} label={`Log of ${name}`} />
    </Stack>
  );
}

interface OperationProps {
  uuid: string;
  operation: Operation;
  label: string;
  extra?: { batch_index?: number; instance_id?: number };
  color?: string;
  size?: string;
}

function OperationButton({ uuid, operation, label, extra, color, size }: OperationProps) {
  const queries = useQueryClient();
  const operate = useMutation({
    mutationFn: () => operateOrder(uuid, operation, extra),
    onSettled: () => queries.invalidateQueries({ queryKey: ["order", uuid] }),
  });
  return (
    <Stack gap={2}>
      <Button variant="light" color={color} size={size ?? "sm"} loading={operate.isPending} onClick={() => operate.mutate()}>
        {label}
      </Button>
      {operate.error && <Alert color="red" p={4}>{operate.error.message}</Alert>}
    </Stack>
  );
}
