// Patch compliance (spec 4.5): reports per host and baseline, their items, and scan/install tickets.
import type { ExecuteBatch } from "./jobs";
import { call, callData, path, type Query } from "./client";

export const PATCH_STATUSES = ["INSTALLED", "INSTALLED_OTHER", "MISSING", "REJECT", "FAILED", "PENDING_REBOOT"];
export const COMPLIANCE_LEVELS = ["CRITICAL", "HIGH", "MEDIUM", "LOW", "INFORMATIONAL", "UNSPECIFIED"];

export interface ComplianceReport {
  id: string;
  name: string;
  instance_id: string;
  ip: string;
  region: string;
  operating_system: string;
  status: string;
  baseline_name: string;
  compliant_summary: { compliant_count: number };
  non_compliant_summary: { non_compliant_count: number };
  execution_summary: { order_id: string; report_time: number };
}

export interface ComplianceItem {
  title: string;
  classification: string;
  severity_level: string;
  compliance_level: string;
  patch_detail: { installed_time: number | null; patch_status: string };
}

export const listReports = (filter: Query, offset: number, limit: number) =>
  call<{ count: number; instance_compliant: ComplianceReport[] }>("GET", "/v1/patch/instance/compliant", {
    query: { ...filter, offset, limit },
  });

export const listItems = (reportId: string, filter: Query, offset: number, limit: number) =>
  call<{ count: number; compliance_items: ComplianceItem[] }>("GET", path`/v1/patch/instance/compliant/${reportId}`, {
    query: { ...filter, offset, limit },
  });

export const startPatchJob = (operation: "SCAN" | "INSTALL", execute_batches: ExecuteBatch[]) =>
  callData<string>("POST", "/v1/patch/jobs", { body: { operation, execute_batches } });
