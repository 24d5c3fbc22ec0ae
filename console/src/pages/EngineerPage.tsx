import { Alert, Button, Fieldset, Group, PasswordInput, Stack, Table, Text, TextInput, Title } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { useParams } from "react-router";
import { errorFor, generalError } from "../api/errors";
import {
  CONTACT_FIELDS, getEngineer, listSubscriptions, requestSubscriptions, SECRET_FIELDS, updateEngineer, type ContactField, type Engineer,
} from "../api/engineers";
import { QueryState } from "../components/QueryState";
import { StatusBadge } from "../components/StatusBadge";
import { formatTime } from "../components/time";

const LABELS: Record<ContactField, string> = {
  alias: "Alias",
  mobile: "Mobile (E.164, +8613800000000)",
  email: "Email",
  wecom_webhook: "WeCom robot webhook",
  dingtalk_webhook: "DingTalk robot webhook",
  dingtalk_key: "DingTalk signing key",
  lark_webhook: "Lark robot webhook",
  lark_key: "Lark signing key",
};

export function EngineerPage() {
  const { userId } = useParams() as { userId: string };
  const engineer = useQuery({ queryKey: ["engineer", userId], queryFn: () => getEngineer(userId) });
  return (
    <QueryState loading={engineer.isPending} error={engineer.error}>
      {engineer.data && (
        <Stack maw={900}>
          <Title order={2}>{engineer.data.user_name}</Title>
          <Text size="sm">
            <span className="mono">{engineer.data.user_id}</span> · {engineer.data.source}
            {engineer.data.identity_provider ? ` via ${engineer.data.identity_provider}` : ""}
          </Text>
          <ContactForm key={JSON.stringify(engineer.data)} engineer={engineer.data} />
          <Subscriptions userId={userId} />
        </Stack>
      )}
    </QueryState>
  );
}

/** Sends only what changed: an unchanged key stays, "" clears a field. */
function ContactForm({ engineer }: { engineer: Engineer }) {
  const initial = Object.fromEntries(
    CONTACT_FIELDS.map((field) => [field, SECRET_FIELDS.includes(field) ? "" : (engineer[field] ?? "")]),
  ) as Record<ContactField, string>;
  const [values, setValues] = useState(initial);
  const queries = useQueryClient();
  const changed = Object.fromEntries(CONTACT_FIELDS.filter((field) => values[field] !== initial[field]).map((field) => [field, values[field]]));
  const save = useMutation({
    mutationFn: () => updateEngineer(engineer.user_id, changed),
    onSuccess: () => queries.invalidateQueries({ queryKey: ["engineer", engineer.user_id] }),
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    save.mutate();
  };
  return (
    <form onSubmit={submit} aria-label="Contact methods">
      <Fieldset legend="Contact methods">
        <Stack gap="xs">
          {CONTACT_FIELDS.map((field) =>
            SECRET_FIELDS.includes(field) ? (
              <PasswordInput key={field} label={LABELS[field]} value={values[field]} onChange={(e) => setValues({ ...values, [field]: e.currentTarget.value })}
                description={engineer[field] ? "set; type a new one to replace it" : "not set"} error={errorFor(save.error, field)} />
            ) : (
              <TextInput key={field} label={LABELS[field]} value={values[field]} onChange={(e) => setValues({ ...values, [field]: e.currentTarget.value })} error={errorFor(save.error, field)} />
            ),
          )}
          {generalError(save.error, [...CONTACT_FIELDS]) && <Alert color="red" role="alert">{generalError(save.error, [...CONTACT_FIELDS])}</Alert>}
          {save.isSuccess && <Alert color="green">Saved. A new email or mobile number is sent a confirmation link.</Alert>}
          <Group>
            <Button type="submit" loading={save.isPending} disabled={Object.keys(changed).length === 0}>Save contact methods</Button>
          </Group>
        </Stack>
      </Fieldset>
    </form>
  );
}

function Subscriptions({ userId }: { userId: string }) {
  const subscriptions = useQuery({ queryKey: ["engineer", userId, "subscriptions"], queryFn: () => listSubscriptions(userId) });
  const queries = useQueryClient();
  const again = useMutation({
    mutationFn: (channel: string) => requestSubscriptions(userId, [channel]),
    onSuccess: () => queries.invalidateQueries({ queryKey: ["engineer", userId, "subscriptions"] }),
  });
  return (
    <Fieldset legend="Subscriptions">
      <QueryState loading={subscriptions.isPending} error={subscriptions.error}>
        <Table>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Channel</Table.Th>
              <Table.Th>State</Table.Th>
              <Table.Th>Address</Table.Th>
              <Table.Th>Requested</Table.Th>
              <Table.Th>Expires</Table.Th>
              <Table.Th>Confirmed</Table.Th>
              <Table.Th />
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {(subscriptions.data ?? []).map((s) => (
              <Table.Tr key={s.channel}>
                <Table.Td>{s.channel}</Table.Td>
                <Table.Td><StatusBadge status={s.state} /></Table.Td>
                <Table.Td className="mono">{s.address ?? ""}</Table.Td>
                <Table.Td>{formatTime(s.requested_at)}</Table.Td>
                <Table.Td>{formatTime(s.expires_at)}</Table.Td>
                <Table.Td>{formatTime(s.confirmed_at)}</Table.Td>
                <Table.Td>
                  {s.address && s.state !== "CONFIRMED" && (
                    <Button size="xs" variant="light" loading={again.isPending && again.variables === s.channel} onClick={() => again.mutate(s.channel)}>
                      Send a new {s.channel} link
                    </Button>
                  )}
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
        {again.error && <Alert color="red" role="alert">{again.error.message}</Alert>}
      </QueryState>
    </Fieldset>
  );
}
