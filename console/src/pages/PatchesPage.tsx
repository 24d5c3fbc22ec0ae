import { Alert, Button, Checkbox, Fieldset, Group, SegmentedControl, Select, Stack, Table, Text, TextInput, Title } from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { keepPreviousData, useMutation, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { useNavigate } from "react-router";
import type { Query } from "../api/client";
import { COMPLIANCE_LEVELS, listItems, listReports, PATCH_STATUSES, startPatchJob, type ComplianceReport } from "../api/patches";
import { listHosts } from "../api/resources";
import { QueryState } from "../components/QueryState";
import { StatusBadge } from "../components/StatusBadge";
import { formatTime } from "../components/time";
import { automaticBatches, executeBatches, MAX_PER_BATCH, planProblem } from "../rules/batchPlan";

const PAGE = 20;
/** The list's text filters (spec 4.5.1), each matched exactly but `name` (a part of it). */
const TEXT_FILTERS: Array<[string, string]> = [
  ["name", "Host name contains"],
  ["instance_id", "Instance id"],
  ["ip", "IP"],
  ["eip", "EIP"],
  ["operating_system", "OS"],
  ["region", "Region"],
  ["group", "Group"],
  ["order_id", "Ticket"],
  ["enterprise_project_id", "Enterprise project"],
  ["cce_info_id", "CCE cluster"],
];

function Pager({ offset, count, onPage }: { offset: number; count: number; onPage: (page: number) => void }) {
  return (
    <Group>
      <Text size="sm">{count} in all</Text>
      <Button variant="default" size="xs" disabled={offset === 1} onClick={() => onPage(offset - 1)}>Previous</Button>
      <Button variant="default" size="xs" disabled={offset * PAGE >= count} onClick={() => onPage(offset + 1)}>Next</Button>
    </Group>
  );
}

export function PatchesPage() {
  const [filter, setFilter] = useState<Query>({ sort_dir: "desc" });
  const [debounced] = useDebouncedValue(filter, 300);
  const [offset, setOffset] = useState(1);
  const [shown, setShown] = useState<ComplianceReport | null>(null);
  const reports = useQuery({
    queryKey: ["patch-reports", debounced, offset],
    queryFn: () => listReports(debounced, offset, PAGE),
    placeholderData: keepPreviousData,
  });
  const change = (patch: Query) => {
    setFilter({ ...filter, ...patch });
    setOffset(1);
  };
  return (
    <Stack maw={1200}>
      <Title order={2}>Patch compliance</Title>
      <StartPatchJob />
      <Group align="end">
        {TEXT_FILTERS.map(([name, label]) => (
          <TextInput key={name} label={label} w={150} value={String(filter[name] ?? "")} onChange={(e) => change({ [name]: e.currentTarget.value })} />
        ))}
        <Select label="Compliance" clearable w={150} data={["compliant", "non_compliant"]} value={(filter.compliant_status as string) ?? null} onChange={(v) => change({ compliant_status: v })} />
        <Select label="Scene" clearable w={110} data={["ECS", "CCE"]} value={(filter.report_scene as string) ?? null} onChange={(v) => change({ report_scene: v })} />
        <Select label="Reported" w={150} allowDeselect={false} data={[{ value: "desc", label: "newest first" }, { value: "asc", label: "oldest first" }]} value={filter.sort_dir as string} onChange={(v) => change({ sort_dir: v })} />
      </Group>
      <QueryState loading={reports.isPending} error={reports.error}>
        <Table striped highlightOnHover>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Host</Table.Th>
              <Table.Th>IP</Table.Th>
              <Table.Th>OS</Table.Th>
              <Table.Th>Baseline</Table.Th>
              <Table.Th>Status</Table.Th>
              <Table.Th>Compliant</Table.Th>
              <Table.Th>Non-compliant</Table.Th>
              <Table.Th>Reported</Table.Th>
              <Table.Th />
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {(reports.data?.instance_compliant ?? []).map((report) => (
              <Table.Tr key={report.id}>
                <Table.Td>{report.name || report.instance_id}</Table.Td>
                <Table.Td>{report.ip}</Table.Td>
                <Table.Td>{report.operating_system}</Table.Td>
                <Table.Td>{report.baseline_name}</Table.Td>
                <Table.Td><StatusBadge status={report.status.toUpperCase()} /></Table.Td>
                <Table.Td>{report.compliant_summary.compliant_count}</Table.Td>
                <Table.Td>{report.non_compliant_summary.non_compliant_count}</Table.Td>
                <Table.Td>{formatTime(report.execution_summary.report_time)}</Table.Td>
                <Table.Td><Button size="xs" variant="light" onClick={() => setShown(report)}>Patches of {report.name || report.instance_id}</Button></Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
        {reports.data?.instance_compliant.length === 0 && <Text c="dimmed">No reports: scan some hosts.</Text>}
        <Pager offset={offset} count={reports.data?.count ?? 0} onPage={setOffset} />
      </QueryState>
      {shown && <PatchItems key={shown.id} report={shown} />}
    </Stack>
  );
}

function PatchItems({ report }: { report: ComplianceReport }) {
  const [filter, setFilter] = useState<Query>({ sort_dir: "desc" });
  const [debounced] = useDebouncedValue(filter, 300);
  const [offset, setOffset] = useState(1);
  const items = useQuery({
    queryKey: ["patch-items", report.id, debounced, offset],
    queryFn: () => listItems(report.id, debounced, offset, PAGE),
    placeholderData: keepPreviousData,
  });
  const change = (patch: Query) => {
    setFilter({ ...filter, ...patch });
    setOffset(1);
  };
  return (
    <Fieldset legend={`Patches of ${report.name || report.instance_id} against ${report.baseline_name}`}>
      <Group align="end" mb="xs">
        <TextInput label="Title contains" value={String(filter.title ?? "")} onChange={(e) => change({ title: e.currentTarget.value })} />
        <TextInput label="Classification" value={String(filter.classification ?? "")} onChange={(e) => change({ classification: e.currentTarget.value })} />
        <TextInput label="Severity" value={String(filter.severity_level ?? "")} onChange={(e) => change({ severity_level: e.currentTarget.value })} />
        <Select label="Patch status" clearable data={PATCH_STATUSES} value={(filter.patch_status as string) ?? null} onChange={(v) => change({ patch_status: v })} />
        <Select label="Compliance level" clearable data={COMPLIANCE_LEVELS} value={(filter.compliance_level as string) ?? null} onChange={(v) => change({ compliance_level: v })} />
      </Group>
      <QueryState loading={items.isPending} error={items.error}>
        <Table>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Package</Table.Th>
              <Table.Th>Classification</Table.Th>
              <Table.Th>Severity</Table.Th>
              <Table.Th>Compliance level</Table.Th>
              <Table.Th>Status</Table.Th>
              <Table.Th>Installed</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {(items.data?.compliance_items ?? []).map((item, i) => (
              <Table.Tr key={`${item.title}-${i}`}>
                <Table.Td className="mono">{item.title}</Table.Td>
                <Table.Td>{item.classification}</Table.Td>
                <Table.Td>{item.severity_level}</Table.Td>
                <Table.Td>{item.compliance_level}</Table.Td>
                <Table.Td>{item.patch_detail.patch_status}</Table.Td>
                <Table.Td>{formatTime(item.patch_detail.installed_time)}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
        <Pager offset={offset} count={items.data?.count ?? 0} onPage={setOffset} />
      </QueryState>
    </Fieldset>
  );
}

/** A scan or install ticket on chosen hosts, up to 10 a batch; it is then watched like any ticket. */
function StartPatchJob() {
  const hosts = useQuery({ queryKey: ["hosts"], queryFn: listHosts });
  const [operation, setOperation] = useState<"SCAN" | "INSTALL">("SCAN");
  const [selected, setSelected] = useState<string[]>([]);
  const navigate = useNavigate();
  const chosen = (hosts.data ?? []).filter((h) => selected.includes(h.id));
  const batches = automaticBatches(chosen, MAX_PER_BATCH);
  const problem = planProblem(batches);
  const start = useMutation({
    mutationFn: () => startPatchJob(operation, executeBatches(batches, new Set())),
    onSuccess: (ticket) => navigate(`/tickets/${ticket}`),
  });
  return (
    <Fieldset legend="Scan or install patches">
      <Group align="center">
        <SegmentedControl aria-label="Patch operation" value={operation} onChange={(v) => setOperation(v as "SCAN" | "INSTALL")} data={[{ value: "SCAN", label: "Scan" }, { value: "INSTALL", label: "Install" }]} />
        {(hosts.data ?? []).map((host) => (
          <Checkbox key={host.id} label={host.name || host.agent_id} checked={selected.includes(host.id)}
            onChange={() => setSelected(selected.includes(host.id) ? selected.filter((s) => s !== host.id) : [...selected, host.id])} />
        ))}
        <Button disabled={!!problem} loading={start.isPending} onClick={() => start.mutate()}>
          {operation === "SCAN" ? "Start scan" : "Start install"} ({chosen.length} hosts)
        </Button>
      </Group>
      {start.error && <Alert mt="xs" color="red" role="alert">{start.error.message}</Alert>}
    </Fieldset>
  );
}
