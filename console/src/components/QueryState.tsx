import { Alert, Loader } from "@mantine/core";
import type { ReactNode } from "react";

/** What a page shows while its data loads, or why it could not. */
export function QueryState({ loading, error, children }: { loading: boolean; error: unknown; children?: ReactNode }) {
  if (error) {
    return (
      <Alert color="red" title="The API refused" role="alert">
        {error instanceof Error ? error.message : String(error)}
      </Alert>
    );
  }
  if (loading) return <Loader size="sm" aria-label="Loading" />;
  return <>{children}</>;
}

/** An API error beside the action that caused it. */
export function ErrorLine({ error }: { error: unknown }) {
  if (!error) return null;
  return (
    <Alert color="red" role="alert" p="xs">
      {error instanceof Error ? error.message : String(error)}
    </Alert>
  );
}
