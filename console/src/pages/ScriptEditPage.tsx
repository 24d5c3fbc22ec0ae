import { ActionIcon, Alert, Button, Checkbox, Fieldset, Group, Select, Stack, Text, Textarea, TextInput, Title } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useNavigate, useParams } from "react-router";
import { errorFor, generalError } from "../api/errors";
import { createScript, getScript, updateScript, type ScriptBody, type ScriptDetail, type ScriptParam } from "../api/scripts";
import { QueryState } from "../components/QueryState";
import { LIMITS, scriptProblems } from "../rules/scriptRules";

const EMPTY: ScriptBody = {
  name: "",
  type: "SHELL",
  description: "",
  content: "",
  properties: { risk_level: "LOW", version: "1.0.0", reviewers: [] },
  script_params: [],
};

function fromDetail(script: ScriptDetail): ScriptBody {
  return {
    description: script.description,
    content: script.content,
    properties: { ...script.properties, reviewers: script.properties.reviewers ?? [] },
    script_params: script.script_params,
  };
}

/** Create (`/scripts/new`) or edit (`/scripts/:uuid/edit`) a script. */
export function ScriptEditPage() {
  const { uuid } = useParams();
  const existing = useQuery({ queryKey: ["script", uuid], queryFn: () => getScript(uuid!), enabled: !!uuid });
  if (uuid && !existing.data) return <QueryState loading={existing.isPending} error={existing.error} />;
  return <ScriptForm key={uuid ?? "new"} uuid={uuid} initial={existing.data ? fromDetail(existing.data) : EMPTY} name={existing.data?.name} />;
}

function ScriptForm({ uuid, initial, name }: { uuid?: string; initial: ScriptBody; name?: string }) {
  const creating = !uuid;
  const [script, setScript] = useState<ScriptBody>(initial);
  const [touched, setTouched] = useState(false);
  const navigate = useNavigate();
  const queries = useQueryClient();
  const save = useMutation({
    mutationFn: () => (creating ? createScript(script) : updateScript(uuid, script)),
    onSuccess: async (saved) => {
      await queries.invalidateQueries({ queryKey: ["scripts"] });
      await queries.invalidateQueries({ queryKey: ["script", saved] });
      navigate(`/scripts/${saved}`);
    },
  });
  const [attempted, setAttempted] = useState(false);
  const problems = scriptProblems(script, creating);
  // A broken rule shows as one types; "is required" only once a save was tried. The API's own
  // error for a field shows beside it after a save.
  const shown = (message: string | undefined) => (message && (attempted || message !== "is required") ? message : undefined);
  const problem = (field: string) => (touched ? shown(problems[field]) : undefined) ?? errorFor(save.error, field);
  const update = (patch: Partial<ScriptBody>) => {
    setScript({ ...script, ...patch });
    setTouched(true);
  };
  const setProperties = (patch: Partial<ScriptBody["properties"]>) => update({ properties: { ...script.properties, ...patch } });
  const setParam = (i: number, patch: Partial<ScriptParam>) =>
    update({ script_params: script.script_params.map((p, j) => (j === i ? { ...p, ...patch } : p)) });
  const addParam = () =>
    update({
      script_params: [
        ...script.script_params,
        { param_name: "", param_value: "", param_description: "", param_order: script.script_params.length + 1, sensitive: false },
      ],
    });
  const removeParam = (i: number) =>
    update({ script_params: script.script_params.filter((_, j) => j !== i).map((p, j) => ({ ...p, param_order: j + 1 })) });
  const reviewers = script.properties.reviewers ?? [];
  const setReviewer = (i: number, patch: Partial<(typeof reviewers)[number]>) =>
    setProperties({ reviewers: reviewers.map((r, j) => (j === i ? { ...r, ...patch } : r)) });
  const fields = Object.keys(problems).concat(["name", "description", "content", "properties", "script_params"]);

  const submit = (event: React.FormEvent) => {
    event.preventDefault();
    setTouched(true);
    setAttempted(true);
    if (Object.keys(problems).length === 0) save.mutate();
  };

  return (
    <form onSubmit={submit} aria-label={creating ? "New script" : "Edit script"} noValidate>
      <Stack maw={900}>
        <Title order={2}>{creating ? "New script" : `Edit ${name}`}</Title>
        {creating && (
          <Group grow align="start">
            <TextInput
              label="Name"
              required
              description={`Letters, digits and underscores; at most ${LIMITS.name}; unique in the project`}
              value={script.name}
              onChange={(e) => update({ name: e.currentTarget.value })}
              error={problem("name")}
            />
            <Select label="Type" data={["SHELL", "PYTHON", "BAT"]} value={script.type} allowDeselect={false} onChange={(v) => update({ type: (v ?? "SHELL") as ScriptBody["type"] })} />
          </Group>
        )}
        <TextInput label="Description" required value={script.description} onChange={(e) => update({ description: e.currentTarget.value })} error={problem("description")} />
        <Textarea
          label="Content"
          required
          autosize
          minRows={6}
          classNames={{ input: "mono" }}
          description={`${[...script.content].length} / ${LIMITS.content} characters; parameters are in the environment as $name`}
          value={script.content}
          onChange={(e) => update({ content: e.currentTarget.value })}
          error={problem("content")}
        />
        <Group grow align="start">
          <Select label="Risk level" data={["LOW", "MEDIUM", "HIGH"]} allowDeselect={false} value={script.properties.risk_level} onChange={(v) => setProperties({ risk_level: (v ?? "LOW") as "LOW" })} />
          <TextInput label="Version" required value={script.properties.version} onChange={(e) => setProperties({ version: e.currentTarget.value })} error={problem("properties.version")} />
        </Group>

        <Fieldset legend={`Reviewers (${reviewers.length} of at most ${LIMITS.reviewers}; none: approved at once)`}>
          <Stack gap="xs">
            {reviewers.map((reviewer, i) => (
              <Group key={i} align="start" wrap="nowrap">
                <TextInput label="Reviewer name" value={reviewer.reviewer_name} onChange={(e) => setReviewer(i, { reviewer_name: e.currentTarget.value })} error={problem(`properties.reviewers[${i}].reviewer_name`)} />
                <TextInput label="Reviewer user id" value={reviewer.reviewer_id} onChange={(e) => setReviewer(i, { reviewer_id: e.currentTarget.value })} error={problem(`properties.reviewers[${i}].reviewer_id`)} />
                <ActionIcon mt={28} variant="subtle" color="red" aria-label={`Remove reviewer ${i + 1}`} onClick={() => setProperties({ reviewers: reviewers.filter((_, j) => j !== i) })}>
                  ✕
                </ActionIcon>
              </Group>
            ))}
            {problem("properties.reviewers") && <Text c="red" size="sm">{problem("properties.reviewers")}</Text>}
            <Button variant="light" size="xs" w="fit-content" disabled={reviewers.length >= LIMITS.reviewers} onClick={() => setProperties({ reviewers: [...reviewers, { reviewer_name: "", reviewer_id: "" }] })}>
              Add reviewer
            </Button>
          </Stack>
        </Fieldset>

        <Fieldset legend={`Parameters (${script.script_params.length} of at most ${LIMITS.params})`}>
          <Stack gap="xs">
            {script.script_params.map((param, i) => (
              <Group key={i} align="start" wrap="nowrap">
                <TextInput label={`Parameter ${i + 1} name`} value={param.param_name} onChange={(e) => setParam(i, { param_name: e.currentTarget.value })} error={problem(`script_params[${i}].param_name`)} />
                <TextInput
                  label="Default value"
                  type={param.sensitive ? "password" : "text"}
                  value={param.param_value}
                  onChange={(e) => setParam(i, { param_value: e.currentTarget.value })}
                  error={problem(`script_params[${i}].param_value`)}
                  description={param.sensitive && !creating ? "unchanged while it shows the mask" : undefined}
                />
                <TextInput label="Description" value={param.param_description} onChange={(e) => setParam(i, { param_description: e.currentTarget.value })} error={problem(`script_params[${i}].param_description`)} />
                <Checkbox mt={32} label="Sensitive" checked={param.sensitive} onChange={(e) => setParam(i, { sensitive: e.currentTarget.checked })} />
                <ActionIcon mt={28} variant="subtle" color="red" aria-label={`Remove parameter ${i + 1}`} onClick={() => removeParam(i)}>
                  ✕
                </ActionIcon>
              </Group>
            ))}
            {problem("script_params") && <Text c="red" size="sm">{problem("script_params")}</Text>}
            <Button variant="light" size="xs" w="fit-content" disabled={script.script_params.length >= LIMITS.params} onClick={addParam}>
              Add parameter
            </Button>
          </Stack>
        </Fieldset>

        {generalError(save.error, fields) && (
          <Alert color="red" role="alert">
            {generalError(save.error, fields)}
          </Alert>
        )}
        <Group>
          <Button type="submit" loading={save.isPending} disabled={attempted && Object.keys(problems).length > 0}>
            {creating ? "Create script" : "Save changes"}
          </Button>
          <Button variant="default" onClick={() => navigate(-1)}>
            Cancel
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
