import { describe, expect, it } from "vitest";
import { canCancelInstance, canCancelOrder, canContinue, canPause, canRetryInstance, canSkipBatch } from "./operations";

describe("ticket operations", () => {
  it("pauses running tickets and continues paused ones", () => {
    expect(canPause("PROCESSING")).toBe(true);
    expect(canPause("READY")).toBe(true);
    expect(canPause("PAUSED")).toBe(false);
    expect(canContinue("PAUSED")).toBe(true);
    expect(canContinue("PROCESSING")).toBe(false);
  });
  it("cancels only what is not over", () => {
    expect(canCancelOrder("PAUSED")).toBe(true);
    expect(canCancelOrder("FINISHED")).toBe(false);
    expect(canCancelInstance("PROCESSING", "READY")).toBe(true);
    expect(canCancelInstance("PROCESSING", "FINISHED")).toBe(false);
    expect(canSkipBatch("PAUSED", ["FINISHED", "READY"])).toBe(true);
    expect(canSkipBatch("PROCESSING", ["FINISHED", "ABNORMAL"])).toBe(false);
  });
  it("retries failed or canceled hosts, even of an ended ticket, but not of a canceled one", () => {
    expect(canRetryInstance("ABNORMAL", "ABNORMAL")).toBe(true);
    expect(canRetryInstance("FINISHED", "CANCELED")).toBe(true);
    expect(canRetryInstance("CANCELED", "CANCELED")).toBe(false);
    expect(canRetryInstance("PROCESSING", "FINISHED")).toBe(false);
  });
});
