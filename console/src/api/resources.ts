// Hosts: the tenant's agents, as GET /v1/resources lists them.
import { callData } from "./client";

export interface Host {
  id: string;
  resource_id: string;
  name: string;
  region_id: string;
  project_id: string;
  agent_id: string;
  agent_state: string;
  inner_ip: string;
  properties: { host_name: string; fixed_ip: string; os_type: string };
  create_time: string;
  update_time: string;
}

const PAGE = 100;

/** Every host, page by page (`marker` is the last row's id). */
export async function listHosts(): Promise<Host[]> {
  const hosts: Host[] = [];
  let marker: string | undefined;
  for (;;) {
    const page = await callData<Host[]>("GET", "/v1/resources", {
      query: { provider: "ecs", type: "cloudservers", limit: PAGE, marker },
    });
    hosts.push(...page);
    if (page.length < PAGE) return hosts;
    marker = page[page.length - 1].id;
  }
}
