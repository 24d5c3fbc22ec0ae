import {
  Alert, Button, Checkbox, Fieldset, Group, Modal, NumberInput, PasswordInput, SegmentedControl, Select, Stack, Table, Text, TextInput, Title,
} from "@mantine/core";
import { useDisclosure } from "@mantine/hooks";
import { useMutation, useQuery } from "@tanstack/react-query";
import { useMemo, useState } from "react";
import { useNavigate, useParams } from "react-router";
import { errorFor, generalError } from "../api/errors";
import { executeScript, type ExecuteBody } from "../api/jobs";
import { listHosts, type Host } from "../api/resources";
import { getScript, type ScriptDetail } from "../api/scripts";
import { QueryState } from "../components/QueryState";
import { StatusBadge } from "../components/StatusBadge";
import { automaticBatches, executeBatches, manualBatches, MAX_BATCHES, MAX_PER_BATCH, planProblem } from "../rules/batchPlan";

const MASK = "*****************";

export function RunScriptPage() {
  const { uuid } = useParams();
  const script = useQuery({ queryKey: ["script", uuid], queryFn: () => getScript(uuid!) });
  const hosts = useQuery({ queryKey: ["hosts"], queryFn: listHosts });
  return (
    <QueryState loading={script.isPending || hosts.isPending} error={script.error ?? hosts.error}>
      {script.data && hosts.data && <RunForm script={script.data} hosts={hosts.data} />}
    </QueryState>
  );
}

function matches(host: Host, text: string, os: string | null, onlineOnly: boolean): boolean {
  const needle = text.trim().toLowerCase();
  const named = !needle || [host.name, host.inner_ip, host.agent_id].some((v) => (v ?? "").toLowerCase().includes(needle));
  return named && (!os || host.properties.os_type === os) && (!onlineOnly || host.agent_state === "ONLINE");
}

function RunForm({ script, hosts }: { script: ScriptDetail; hosts: Host[] }) {
  const navigate = useNavigate();
  const [search, setSearch] = useState("");
  const [os, setOs] = useState<string | null>(null);
  const [onlineOnly, setOnlineOnly] = useState(false);
  const [selected, setSelected] = useState<string[]>([]);
  const [mode, setMode] = useState("automatic");
  const [perBatch, setPerBatch] = useState(1);
  const [chosenBatch, setChosenBatch] = useState<Record<string, number>>({});
  const [pauseAfter, setPauseAfter] = useState<Set<number>>(new Set());
  const [timeout, setTimeoutSecs] = useState(300);
  const [successRate, setSuccessRate] = useState(100);
  const [user, setUser] = useState("root");
  // Sensitive defaults come back masked: the run must be given the real value (or keeps none).
  const [params, setParams] = useState(() =>
    Object.fromEntries(script.script_params.map((p) => [p.param_name, p.sensitive ? "" : p.param_value])),
  );
  const [review, { open, close }] = useDisclosure(false);

  const shown = hosts.filter((h) => matches(h, search, os, onlineOnly));
  const chosen = hosts.filter((h) => selected.includes(h.id));
  const batches = useMemo(
    () => (mode === "automatic" ? automaticBatches(chosen, perBatch) : manualBatches(chosen, chosenBatch)),
    [mode, chosen, perBatch, chosenBatch],
  );
  const problem = planProblem(batches);
  const body: ExecuteBody = {
    execute_param: {
      resourceful: true,
      timeout,
      success_rate: successRate,
      execute_user: user,
      script_params: script.script_params.map((p) => ({ param_name: p.param_name, param_value: params[p.param_name] ?? "", param_order: p.param_order })),
    },
    execute_batches: executeBatches(batches, pauseAfter),
  };
  const run = useMutation({ mutationFn: () => executeScript(script.script_uuid, body), onSuccess: (ticket) => navigate(`/tickets/${ticket}`) });
  const toggle = (id: string) => setSelected(selected.includes(id) ? selected.filter((s) => s !== id) : [...selected, id]);
  const togglePause = (batch: number) => {
    const next = new Set(pauseAfter);
    if (next.has(batch)) next.delete(batch);
    else next.add(batch);
    setPauseAfter(next);
  };
  const osTypes = [...new Set(hosts.map((h) => h.properties.os_type).filter(Boolean))];
  const fields = ["execute_param", "execute_batches"];

  return (
    <Stack maw={1100}>
      <Title order={2}>Run {script.name}</Title>
      <Fieldset legend={`Hosts (${selected.length} chosen)`}>
        <Group align="end" mb="xs">
          <TextInput label="Name, IP or agent" value={search} onChange={(e) => setSearch(e.currentTarget.value)} />
          <Select label="OS" clearable data={osTypes} value={os} onChange={setOs} />
          <Checkbox label="Agent online" checked={onlineOnly} onChange={(e) => setOnlineOnly(e.currentTarget.checked)} mb={8} />
        </Group>
        <Table>
          <Table.Thead>
            <Table.Tr>
              <Table.Th />
              <Table.Th>Host</Table.Th>
              <Table.Th>IP</Table.Th>
              <Table.Th>OS</Table.Th>
              <Table.Th>Agent</Table.Th>
              {mode === "manual" && <Table.Th>Batch</Table.Th>}
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {shown.map((host) => (
              <Table.Tr key={host.id}>
                <Table.Td>
                  <Checkbox aria-label={`Choose ${host.name || host.agent_id}`} checked={selected.includes(host.id)} onChange={() => toggle(host.id)} />
                </Table.Td>
                <Table.Td>{host.name || host.agent_id}</Table.Td>
                <Table.Td>{host.inner_ip}</Table.Td>
                <Table.Td>{host.properties.os_type}</Table.Td>
                <Table.Td>
                  <StatusBadge status={host.agent_state} />
                </Table.Td>
                {mode === "manual" && (
                  <Table.Td>
                    <NumberInput
                      aria-label={`Batch of ${host.name || host.agent_id}`}
                      w={90}
                      min={1}
                      max={MAX_BATCHES}
                      disabled={!selected.includes(host.id)}
                      value={chosenBatch[host.id] ?? 1}
                      onChange={(v) => setChosenBatch({ ...chosenBatch, [host.id]: Number(v) || 1 })}
                    />
                  </Table.Td>
                )}
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
        {shown.length === 0 && <Text c="dimmed">No host matches. Hosts appear when their coc-agent registers.</Text>}
      </Fieldset>

      <Fieldset legend="Batches">
        <Group align="end">
          <SegmentedControl value={mode} onChange={setMode} data={[{ value: "automatic", label: "Automatic" }, { value: "manual", label: "Manual" }]} aria-label="Batch planning" />
          {mode === "automatic" && (
            <NumberInput label="Hosts per batch" min={1} max={MAX_PER_BATCH} value={perBatch} onChange={(v) => setPerBatch(Number(v) || 1)} w={150} />
          )}
        </Group>
        <Stack gap={4} mt="sm">
          {batches.map((batch, i) => (
            <Group key={i}>
              <Text size="sm" w={320}>
                Batch {i + 1}: {batch.map((h) => h.name || h.agent_id).join(", ")}
              </Text>
              <Checkbox size="xs" label={`Pause after batch ${i + 1}`} checked={pauseAfter.has(i + 1)} onChange={() => togglePause(i + 1)} />
            </Group>
          ))}
        </Stack>
        {problem && <Text c="red" size="sm" mt="xs">{problem}</Text>}
      </Fieldset>

      <Fieldset legend="Execution">
        <Group align="start" grow>
          <NumberInput label="Timeout (seconds)" min={5} max={1800} value={timeout} onChange={(v) => setTimeoutSecs(Number(v))} error={errorFor(run.error, "execute_param.timeout") ?? (timeout < 5 || timeout > 1800 ? "between 5 and 1800" : undefined)} />
          <NumberInput label="Success rate (%)" min={1} max={100} decimalScale={1} value={successRate} onChange={(v) => setSuccessRate(Number(v))} error={errorFor(run.error, "execute_param.success_rate") ?? (successRate < 1 || successRate > 100 ? "between 1 and 100" : undefined)} />
          <TextInput label="Execute as user" value={user} onChange={(e) => setUser(e.currentTarget.value)} error={errorFor(run.error, "execute_param.execute_user") ?? (user.length < 1 || user.length > 32 ? "1 to 32 characters" : undefined)} />
        </Group>
        {script.script_params.map((p, i) =>
          p.sensitive ? (
            <PasswordInput key={p.param_name} mt="xs" label={`${p.param_name} (sensitive)`} description={p.param_description} value={params[p.param_name]} onChange={(e) => setParams({ ...params, [p.param_name]: e.currentTarget.value })} error={errorFor(run.error, `execute_param.script_params[${i}]`)} />
          ) : (
            <TextInput key={p.param_name} mt="xs" label={p.param_name} description={p.param_description} value={params[p.param_name]} onChange={(e) => setParams({ ...params, [p.param_name]: e.currentTarget.value })} error={errorFor(run.error, `execute_param.script_params[${i}]`)} />
          ),
        )}
      </Fieldset>
      <Group>
        <Button onClick={open} disabled={!!problem}>
          Review plan
        </Button>
      </Group>

      {/* lockScroll off: its scroll lock injects a <style> element, which the CSP refuses. */}
      <Modal opened={review} onClose={close} title={`Run ${script.name}?`} size="lg" lockScroll={false}>
        <Stack>
          <Text size="sm">
            {chosen.length} host(s) in {batches.length} batch(es); timeout {timeout} s; success rate {successRate} %; as {user}.
          </Text>
          <Table data-testid="plan">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Batch</Table.Th>
                <Table.Th>Hosts</Table.Th>
                <Table.Th>After it</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {body.execute_batches.map((batch) => (
                <Table.Tr key={batch.batch_index}>
                  <Table.Td>{batch.batch_index}</Table.Td>
                  <Table.Td>{batch.target_instances.map((t) => t.agent_sn).join(", ")}</Table.Td>
                  <Table.Td>{batch.rotation_strategy === "PAUSE" ? "pause" : "continue"}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
          {script.script_params.map((p) => (
            <Text size="sm" key={p.param_name} className="mono">
              {p.param_name} = {p.sensitive ? MASK : params[p.param_name]}
            </Text>
          ))}
          {generalError(run.error, fields) && <Alert color="red" role="alert">{generalError(run.error, fields)}</Alert>}
          {run.error && !generalError(run.error, fields) && <Alert color="red" role="alert">{run.error.message}</Alert>}
          <Group justify="end">
            <Button variant="default" onClick={close}>
              Back
            </Button>
            <Button loading={run.isPending} onClick={() => run.mutate()}>
              Start run
            </Button>
          </Group>
        </Stack>
      </Modal>
    </Stack>
  );
}
