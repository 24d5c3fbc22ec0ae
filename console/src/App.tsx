import { Button, Group, NavLink, Text, Title } from "@mantine/core";
import { useQueryClient } from "@tanstack/react-query";
import { useSyncExternalStore } from "react";
import { Navigate, NavLink as RouterLink, Route, Routes } from "react-router";
import { endSession, loadSession, onSessionChange } from "./api/session";
import { EngineerPage } from "./pages/EngineerPage";
import { EngineersPage } from "./pages/EngineersPage";
import { IncidentPage } from "./pages/IncidentPage";
import { IncidentsPage } from "./pages/IncidentsPage";
import { IntegrationsPage } from "./pages/IntegrationsPage";
import { NewIncidentPage } from "./pages/NewIncidentPage";
import { NotificationsPage } from "./pages/NotificationsPage";
import { PatchesPage } from "./pages/PatchesPage";
import { ResourcesPage } from "./pages/ResourcesPage";
import { RunScriptPage } from "./pages/RunScriptPage";
import { ScriptEditPage } from "./pages/ScriptEditPage";
import { ScriptPage } from "./pages/ScriptPage";
import { ScriptsPage } from "./pages/ScriptsPage";
import { SignInPage } from "./pages/SignInPage";
import { TicketPage } from "./pages/TicketPage";
import { TicketsPage } from "./pages/TicketsPage";

const SECTIONS = [
  ["/scripts", "Scripts"],
  ["/tickets", "Tickets"],
  ["/incidents", "Incidents"],
  ["/integrations", "Alarm integrations"],
  ["/patches", "Patch compliance"],
  ["/resources", "Resources"],
  ["/engineers", "Engineers"],
  ["/notifications", "Delivery log"],
] as const;

let cachedRaw: string | null = null;
let cachedSession = loadSession();
function currentSession() {
  const raw = sessionStorage.getItem("coc.session");
  if (raw !== cachedRaw) {
    cachedRaw = raw;
    cachedSession = loadSession();
  }
  return cachedSession;
}

export function App() {
  const session = useSyncExternalStore(onSessionChange, currentSession);
  const queries = useQueryClient();
  if (!session) return <SignInPage />;

  const signOut = () => {
    queries.clear();
    endSession();
  };
  return (
    // A plain CSS grid rather than Mantine's AppShell, which injects <style> elements the CSP refuses.
    <div className="shell">
      <header className="shell-header">
        <Title order={4}>Cloud Operations Center</Title>
        <Group>
          <Text size="sm" data-testid="signed-in-as">
            {session.userName || session.userId} · project {session.projectId}
          </Text>
          <Button variant="default" size="xs" onClick={signOut}>
            Sign out
          </Button>
        </Group>
      </header>
      <nav className="shell-nav" aria-label="Sections">
        {SECTIONS.map(([to, label]) => (
          <NavLink key={to} component={RouterLink} to={to} label={label} />
        ))}
      </nav>
      <main className="shell-main">
        <Routes>
          <Route path="/" element={<Navigate to="/scripts" replace />} />
          <Route path="/scripts" element={<ScriptsPage />} />
          <Route path="/scripts/new" element={<ScriptEditPage />} />
          <Route path="/scripts/:uuid" element={<ScriptPage />} />
          <Route path="/scripts/:uuid/edit" element={<ScriptEditPage />} />
          <Route path="/scripts/:uuid/run" element={<RunScriptPage />} />
          <Route path="/tickets" element={<TicketsPage />} />
          <Route path="/tickets/:uuid" element={<TicketPage />} />
          <Route path="/incidents" element={<IncidentsPage />} />
          <Route path="/incidents/new" element={<NewIncidentPage />} />
          <Route path="/incidents/:num" element={<IncidentPage />} />
          <Route path="/integrations" element={<IntegrationsPage />} />
          <Route path="/patches" element={<PatchesPage />} />
          <Route path="/resources" element={<ResourcesPage />} />
          <Route path="/engineers" element={<EngineersPage />} />
          <Route path="/engineers/:userId" element={<EngineerPage />} />
          <Route path="/notifications" element={<NotificationsPage />} />
          <Route path="*" element={<Text>No such page.</Text>} />
        </Routes>
      </main>
    </div>
  );
}
