import { describe, expect, it } from "vitest";
import type { ScriptBody } from "../api/scripts";
import { paramValueRule, scriptProblems, wordRule } from "./scriptRules";

const good: ScriptBody = {
  name: "restart_nginx",
  type: "SHELL",
  description: "restarts it",
  content: "systemctl restart nginx",
  properties: { risk_level: "LOW", version: "1.0.0", reviewers: [] },
  script_params: [{ param_name: "unit", param_value: "nginx.service", param_description: "", param_order: 1, sensitive: false }],
};

describe("script rules", () => {
  it("accepts a valid script", () => expect(scriptProblems(good, true)).toEqual({}));

  it("names each bad field by its API path", () => {
    const bad: ScriptBody = {
      ...good,
      name: "restart nginx",
      description: "",
      properties: { risk_level: "LOW", version: "12345678901", reviewers: [{ reviewer_name: "", reviewer_id: "r" }] },
      script_params: [
        { ...good.script_params[0], param_value: "../etc" },
        { ...good.script_params[0], param_order: 2 },
      ],
    };
    expect(scriptProblems(bad, true)).toEqual({
      name: "may contain only letters, digits and underscores",
      description: "is required",
      "properties.version": "must be at most 10 characters (now 11)",
      "properties.reviewers[0].reviewer_name": "is required",
      "script_params[0].param_value": "must not contain '..'",
      "script_params[1].param_name": "param_name unit is used more than once",
    });
  });

  it("does not check the name of an edit (it cannot change)", () => {
    expect(scriptProblems({ ...good, name: undefined }, false)).toEqual({});
  });

  it("counts characters, not UTF-16 units", () => {
    expect(wordRule("a".repeat(64), 64)).toBeNull();
    expect(wordRule("a".repeat(65), 64)).toContain("at most 64");
    expect(paramValueRule("😀")).toContain("not allowed");
    expect(paramValueRule('a-b_c/d.e*f?g:h",i=j+k@l\\m[n{o]p} q')).toBeNull();
  });

  it("allows at most 20 parameters", () => {
    const many = Array.from({ length: 21 }, (_, i) => ({ ...good.script_params[0], param_name: `p${i}`, param_order: i + 1 }));
    expect(scriptProblems({ ...good, script_params: many }, true).script_params).toBe("at most 20 parameters");
  });
});
