import { describe, expect, it } from "vitest";
import type { Host } from "../api/resources";
import { automaticBatches, executeBatches, manualBatches, planProblem } from "./batchPlan";

const host = (n: number): Host => ({
  id: `agent-${n}`,
  resource_id: `res-${n}`,
  name: `web-${n}`,
  region_id: "local",
  project_id: "p",
  agent_id: `agent-${n}`,
  agent_state: "ONLINE",
  inner_ip: `10.0.0.${n}`,
  properties: { host_name: `web-${n}`, fixed_ip: `10.0.0.${n}`, os_type: "LINUX" },
  create_time: "",
  update_time: "",
});
const hosts = (count: number) => Array.from({ length: count }, (_, i) => host(i + 1));

describe("batch plans", () => {
  it("cuts hosts into batches of the chosen size, 10 at most", () => {
    expect(automaticBatches(hosts(5), 2).map((b) => b.length)).toEqual([2, 2, 1]);
    expect(automaticBatches(hosts(25), 50).map((b) => b.length)).toEqual([10, 10, 5]);
  });

  it("closes up gaps in manual batch numbers", () => {
    const plan = manualBatches(hosts(3), { "agent-1": 5, "agent-2": 2, "agent-3": 5 });
    expect(plan.map((b) => b.map((h) => h.id))).toEqual([["agent-2"], ["agent-1", "agent-3"]]);
  });

  it("refuses what the API refuses", () => {
    expect(planProblem([])).toBe("choose at least one host");
    expect(planProblem(automaticBatches(hosts(201), 10))).toContain("at most 200 hosts");
    expect(planProblem(automaticBatches(hosts(21), 1))).toContain("at most 20 batches");
    expect(planProblem([hosts(11)])).toContain("batch 1 has 11 hosts");
    expect(planProblem(automaticBatches(hosts(200), 10))).toBeNull();
  });

  it("numbers batches from 1 and pauses where asked", () => {
    const batches = executeBatches(automaticBatches(hosts(3), 2), new Set([1]));
    expect(batches.map((b) => [b.batch_index, b.rotation_strategy, b.target_instances.length])).toEqual([
      [1, "PAUSE", 2],
      [2, "CONTINUE", 1],
    ]);
    expect(batches[0].target_instances[0]).toEqual({
      resource_id: "res-1",
      agent_sn: "agent-1",
      region_id: "local",
      project_id: "p",
      provider: "ecs",
      type: "cloudservers",
    });
  });
});
