import { Alert, Button, Checkbox, Group, Select, Stack, Textarea, TextInput, Title } from "@mantine/core";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { useNavigate } from "react-router";
import { errorFor, generalError } from "../api/errors";
import { createIncident, LEVELS, TYPES, type NewIncident } from "../api/incidents";
import { loadSession } from "../api/session";

const TITLE_MAX = 200;
const DESCRIPTION_MAX = 600;

export function NewIncidentPage() {
  const navigate = useNavigate();
  const queries = useQueryClient();
  const [incident, setIncident] = useState<NewIncident>({
    incident_title: "",
    incident_description: "",
    incident_level: "level_30",
    incident_type: "inc_type_p_function_issues",
    incident_assignee: [loadSession()?.userId ?? ""],
    current_cloud_service: [""],
    is_service_interrupt: false,
    creator: loadSession()?.userId ?? "",
  });
  const create = useMutation({
    mutationFn: () => createIncident(incident),
    onSuccess: async ({ incident_num }) => {
      await queries.invalidateQueries({ queryKey: ["incidents"] });
      navigate(`/incidents/${incident_num}`);
    },
  });
  const set = (patch: Partial<NewIncident>) => setIncident({ ...incident, ...patch });
  const titleLength = [...incident.incident_title].length;
  const descriptionLength = [...incident.incident_description].length;
  const fields = ["incident_title", "incident_description", "incident_level", "incident_type", "incident_assignee", "current_cloud_service", "is_service_interrupt"];
  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate();
  };
  return (
    <form onSubmit={submit} aria-label="New incident">
      <Stack maw={700}>
        <Title order={2}>New incident</Title>
        <TextInput label="Title" required value={incident.incident_title} onChange={(e) => set({ incident_title: e.currentTarget.value })}
          description={`${titleLength} / ${TITLE_MAX}`} error={errorFor(create.error, "incident_title") ?? (titleLength > TITLE_MAX ? `at most ${TITLE_MAX} characters` : undefined)} />
        <Textarea label="Description" required autosize minRows={3} value={incident.incident_description} onChange={(e) => set({ incident_description: e.currentTarget.value })}
          description={`${descriptionLength} / ${DESCRIPTION_MAX}`} error={errorFor(create.error, "incident_description") ?? (descriptionLength > DESCRIPTION_MAX ? `at most ${DESCRIPTION_MAX} characters` : undefined)} />
        <Group grow align="start">
          <Select label="Level" data={[...LEVELS]} allowDeselect={false} value={incident.incident_level} onChange={(v) => set({ incident_level: v ?? "level_30" })} error={errorFor(create.error, "incident_level")} />
          <Select label="Type" data={TYPES.map(([value, label]) => ({ value, label }))} allowDeselect={false} value={incident.incident_type} onChange={(v) => set({ incident_type: v ?? TYPES[0][0] })} error={errorFor(create.error, "incident_type")} />
        </Group>
        <Group grow align="start">
          <TextInput label="Application (cloud service id)" required value={incident.current_cloud_service[0]} onChange={(e) => set({ current_cloud_service: [e.currentTarget.value] })} error={errorFor(create.error, "current_cloud_service")} />
          <TextInput label="Assignee (an O&M engineer's user id)" required value={incident.incident_assignee[0]} onChange={(e) => set({ incident_assignee: [e.currentTarget.value] })} error={errorFor(create.error, "incident_assignee")} />
        </Group>
        <Checkbox label="The service is interrupted" checked={incident.is_service_interrupt} onChange={(e) => set({ is_service_interrupt: e.currentTarget.checked })} />
        {generalError(create.error, fields) && <Alert color="red" role="alert">{generalError(create.error, fields)}</Alert>}
        <Group>
          <Button type="submit" loading={create.isPending}>Create incident</Button>
        </Group>
      </Stack>
    </form>
  );
}
