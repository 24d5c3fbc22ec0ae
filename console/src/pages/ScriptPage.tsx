import { Alert, Button, Code, Group, Modal, Stack, Table, Text, Textarea, Title } from "@mantine/core";
import { useDisclosure } from "@mantine/hooks";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Link, useNavigate, useParams } from "react-router";
import { deleteScript, getScript, reviewScript, type ScriptDetail } from "../api/scripts";
import { loadSession } from "../api/session";
import { ErrorLine, QueryState } from "../components/QueryState";
import { StatusBadge } from "../components/StatusBadge";
import { formatTime } from "../components/time";

export function ScriptPage() {
  const { uuid } = useParams();
  const script = useQuery({ queryKey: ["script", uuid], queryFn: () => getScript(uuid!) });
  return <QueryState loading={script.isPending} error={script.error}>{script.data && <ScriptView script={script.data} />}</QueryState>;
}

function ScriptView({ script }: { script: ScriptDetail }) {
  const reviewers = script.properties.reviewers ?? [];
  return (
    <Stack maw={1000}>
      <Group justify="space-between">
        <Group>
          <Title order={2}>{script.name}</Title>
          <StatusBadge status={script.status} />
        </Group>
        <Group>
          <Button component={Link} to={`/scripts/${script.script_uuid}/run`} disabled={script.status !== "APPROVED"}>
            Run
          </Button>
          <Button variant="default" component={Link} to={`/scripts/${script.script_uuid}/edit`}>
            Edit
          </Button>
          <DeleteScript script={script} />
        </Group>
      </Group>
      {script.status !== "APPROVED" && <Text size="sm" c="dimmed">Only an approved script runs.</Text>}
      <Text>{script.description}</Text>
      <Group gap="xl">
        <Text size="sm">Type: {script.type}</Text>
        <Text size="sm">Risk: {script.properties.risk_level}</Text>
        <Text size="sm">Version: {script.properties.version}</Text>
        <Text size="sm">Revision: {script.revision}</Text>
        <Text size="sm">Creator: {script.creator}</Text>
        <Text size="sm">Modified: {formatTime(script.gmt_modified)}</Text>
      </Group>
      <Text size="xs" c="dimmed">
        Fingerprint <span className="mono">{script.fingerprint}</span>
      </Text>
      <pre className="log" data-testid="script-content">{script.content}</pre>
      {script.script_params.length > 0 && (
        <Table>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Parameter</Table.Th>
              <Table.Th>Default</Table.Th>
              <Table.Th>Description</Table.Th>
              <Table.Th>Sensitive</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {script.script_params.map((p) => (
              <Table.Tr key={p.param_name}>
                <Table.Td className="mono">{p.param_name}</Table.Td>
                <Table.Td className="mono">{p.param_value}</Table.Td>
                <Table.Td>{p.param_description}</Table.Td>
                <Table.Td>{p.sensitive ? "yes" : "no"}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
      <Text size="sm">Reviewers: {reviewers.length ? reviewers.map((r) => `${r.reviewer_name} (${r.reviewer_id || "no id"})`).join(", ") : "none"}</Text>
      {script.status === "PENDING_APPROVE" &&
        (reviewers.some((r) => r.reviewer_id === loadSession()?.userId) ? (
          <ReviewForm script={script} />
        ) : (
          <Text size="sm" data-testid="waiting-for-review">Waiting for a reviewer's decision; only the reviewers named above may decide.</Text>
        ))}
      {script.reviews.length > 0 && (
        <Stack gap={4}>
          <Title order={4}>Decisions</Title>
          {script.reviews.map((review, i) => (
            <Text size="sm" key={i}>
              {formatTime(review.time as number)}: {review.reviewer_name} {String(review.status)} revision {review.revision}
              {review.comments ? ` — ${review.comments}` : ""}
            </Text>
          ))}
        </Stack>
      )}
    </Stack>
  );
}

/** A decision names the revision shown above, so an edit made meanwhile cannot be approved unseen. */
function ReviewForm({ script }: { script: ScriptDetail }) {
  const [comments, setComments] = useState("");
  const queries = useQueryClient();
  const review = useMutation({
    mutationFn: (status: "APPROVED" | "REJECTED") => reviewScript(script.script_uuid, status, comments, script.revision),
    onSuccess: () => queries.invalidateQueries({ queryKey: ["script", script.script_uuid] }),
  });
  return (
    <Stack gap="xs" p="sm" bg="gray.0">
      <Title order={4}>Review revision {script.revision}</Title>
      <Text size="sm">You decide about the content and parameters shown above (fingerprint <Code>{script.fingerprint.slice(0, 12)}</Code>).</Text>
      <Textarea label="Comments" value={comments} onChange={(e) => setComments(e.currentTarget.value)} />
      <ErrorLine error={review.error} />
      <Group>
        <Button color="green" loading={review.isPending && review.variables === "APPROVED"} onClick={() => review.mutate("APPROVED")}>
          Approve
        </Button>
        <Button color="red" variant="light" loading={review.isPending && review.variables === "REJECTED"} onClick={() => review.mutate("REJECTED")}>
          Reject
        </Button>
      </Group>
    </Stack>
  );
}

function DeleteScript({ script }: { script: ScriptDetail }) {
  const [opened, { open, close }] = useDisclosure(false);
  const navigate = useNavigate();
  const queries = useQueryClient();
  const remove = useMutation({
    mutationFn: () => deleteScript(script.script_uuid),
    onSuccess: async () => {
      await queries.invalidateQueries({ queryKey: ["scripts"] });
      navigate("/scripts");
    },
  });
  return (
    <>
      <Button color="red" variant="light" onClick={open}>
        Delete
      </Button>
      {/* lockScroll off: its scroll lock injects a <style> element, which the CSP refuses. */}
      <Modal opened={opened} onClose={close} title="Delete this script?" lockScroll={false}>
        <Stack>
          <Text>
            <b>{script.name}</b> is deleted for good; tickets that ran it keep their record.
          </Text>
          {remove.error && <Alert color="red">{remove.error.message}</Alert>}
          <Group justify="end">
            <Button variant="default" onClick={close}>
              Keep it
            </Button>
            <Button color="red" loading={remove.isPending} onClick={() => remove.mutate()}>
              Delete {script.name}
            </Button>
          </Group>
        </Stack>
      </Modal>
    </>
  );
}
