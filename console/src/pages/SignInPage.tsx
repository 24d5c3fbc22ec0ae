import { Alert, Button, Center, Paper, PasswordInput, Stack, Text, TextInput, Title } from "@mantine/core";
import { useState, type FormEvent } from "react";
import { signInNotice } from "../api/session";
import { signIn } from "../api/signIn";

/** AK/SK in, token out: the secret key lives only in this form's state until the request is signed. */
export function SignInPage() {
  const [accessKey, setAccessKey] = useState("");
  const [secretKey, setSecretKey] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const notice = signInNotice();

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await signIn(accessKey, secretKey);
    } catch (err) {
      setError(err instanceof Error ? err.message : String(err));
      setBusy(false);
    }
    setSecretKey("");
  };

  return (
    <Center mih="100vh">
      <Paper withBorder shadow="sm" p="xl" w={420}>
        <form onSubmit={submit} aria-label="Sign in">
          <Stack>
            <Title order={3}>Sign in to COC</Title>
            {notice && (
              <Alert color="yellow" data-testid="signin-notice">
                {notice}
              </Alert>
            )}
            <TextInput label="Access key" required value={accessKey} onChange={(e) => setAccessKey(e.currentTarget.value)} autoComplete="username" />
            <PasswordInput
              label="Secret key"
              required
              value={secretKey}
              onChange={(e) => setSecretKey(e.currentTarget.value)}
              autoComplete="current-password"
              description="Signs the token request in this page; it is never sent or stored."
            />
            {error && (
              <Alert color="red" role="alert">
                {error}
              </Alert>
            )}
            <Button type="submit" loading={busy}>
              Sign in
            </Button>
            <Text size="xs" c="dimmed">
              Keys come from <span className="mono">make credential</span> or the first start of <span className="mono">make run</span>.
            </Text>
          </Stack>
        </form>
      </Paper>
    </Center>
  );
}
