// Planning a run's batches within spec 4.2.6: at most 200 hosts, 10 per batch, 20 batches,
// batch_index 1, 2, … without gaps.
import type { ExecuteBatch, TargetInstance } from "../api/jobs";
import type { Host } from "../api/resources";

export const MAX_HOSTS = 200;
export const MAX_PER_BATCH = 10;
export const MAX_BATCHES = 20;

export type Rotation = "CONTINUE" | "PAUSE";

export function target(host: Host): TargetInstance {
  return {
    resource_id: host.resource_id,
    agent_sn: host.agent_id,
    region_id: host.region_id,
    project_id: host.project_id,
    provider: "ecs",
    type: "cloudservers",
  };
}

/** Automatic: the hosts in order, `perBatch` at a time. */
export function automaticBatches(hosts: Host[], perBatch: number): Host[][] {
  const size = Math.max(1, Math.min(MAX_PER_BATCH, Math.floor(perBatch)));
  const batches: Host[][] = [];
  for (let i = 0; i < hosts.length; i += size) batches.push(hosts.slice(i, i + size));
  return batches;
}

/** Manual: each host in the batch number chosen for it; empty numbers close up (2, 5 → 1, 2). */
export function manualBatches(hosts: Host[], chosen: Record<string, number>): Host[][] {
  const numbers = [...new Set(hosts.map((h) => chosen[h.id] ?? 1))].sort((a, b) => a - b);
  return numbers.map((n) => hosts.filter((h) => (chosen[h.id] ?? 1) === n));
}

/** What is wrong with a plan, or null. */
export function planProblem(batches: Host[][]): string | null {
  const hosts = batches.reduce((n, batch) => n + batch.length, 0);
  if (hosts === 0) return "choose at least one host";
  if (hosts > MAX_HOSTS) return `at most ${MAX_HOSTS} hosts per ticket (${hosts} chosen)`;
  if (batches.length > MAX_BATCHES) return `at most ${MAX_BATCHES} batches (${batches.length} planned)`;
  const big = batches.findIndex((batch) => batch.length > MAX_PER_BATCH);
  if (big >= 0) return `batch ${big + 1} has ${batches[big].length} hosts; at most ${MAX_PER_BATCH}`;
  return null;
}

/** The API's execute_batches; `pauseAfter` holds the batch numbers after which the ticket pauses. */
export function executeBatches(batches: Host[][], pauseAfter: Set<number>): ExecuteBatch[] {
  return batches.map((hosts, i) => ({
    batch_index: i + 1,
    target_instances: hosts.map(target),
    rotation_strategy: pauseAfter.has(i + 1) ? "PAUSE" : "CONTINUE",
  }));
}
