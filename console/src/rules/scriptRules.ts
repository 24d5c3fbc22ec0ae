// The spec's rules for a script (4.2.1, tables 4-5 to 4-8), as shared/src/domain/script checks them,
// so the form says what is wrong while one types. The server checks again; its word is final.
import type { ScriptBody } from "../api/scripts";

export const LIMITS = {
  name: 64,
  description: 256,
  content: 4096,
  version: 10,
  reviewers: 5,
  reviewerName: 64,
  reviewerId: 32,
  params: 20,
  paramName: 64,
  paramValue: 1024,
  paramDescription: 256,
} as const;

const WORD = /^[A-Za-z0-9_]+$/;
const PARAM_VALUE_CHARS = /^[A-Za-z0-9_\-/.*?:",=+@\\[{\]} ]*$/;

/** Length in characters (code points), as the server counts. */
const length = (text: string) => [...text].length;

function bounded(text: string, min: number, max: number): string | null {
  const n = length(text);
  if (n < min) return min === 1 ? "is required" : `must be at least ${min} characters`;
  if (n > max) return `must be at most ${max} characters (now ${n})`;
  return null;
}

export function wordRule(text: string, max: number): string | null {
  return bounded(text, 1, max) ?? (WORD.test(text) ? null : "may contain only letters, digits and underscores");
}

export function paramValueRule(text: string): string | null {
  const tooLong = bounded(text, 0, LIMITS.paramValue);
  if (tooLong) return tooLong;
  if (!PARAM_VALUE_CHARS.test(text)) {
    const bad = [...text].find((c) => !PARAM_VALUE_CHARS.test(c));
    return `contains the character ${JSON.stringify(bad)}, which is not allowed`;
  }
  return text.includes("..") ? "must not contain '..'" : null;
}

/** Every problem of `script`, keyed by the JSON path the API would name. */
export function scriptProblems(script: ScriptBody, creating: boolean): Record<string, string> {
  const problems: Record<string, string | null> = {
    description: bounded(script.description, 1, LIMITS.description),
    content: bounded(script.content, 1, LIMITS.content),
    "properties.version": bounded(script.properties.version, 1, LIMITS.version),
  };
  if (creating) problems.name = wordRule(script.name ?? "", LIMITS.name);
  const reviewers = script.properties.reviewers ?? [];
  if (reviewers.length > LIMITS.reviewers) problems["properties.reviewers"] = `at most ${LIMITS.reviewers} reviewers`;
  reviewers.forEach((reviewer, i) => {
    problems[`properties.reviewers[${i}].reviewer_name`] = bounded(reviewer.reviewer_name, 1, LIMITS.reviewerName);
    problems[`properties.reviewers[${i}].reviewer_id`] = bounded(reviewer.reviewer_id, 0, LIMITS.reviewerId);
  });
  if (script.script_params.length > LIMITS.params) problems.script_params = `at most ${LIMITS.params} parameters`;
  const seen = new Set<string>();
  script.script_params.forEach((param, i) => {
    const duplicate = seen.has(param.param_name) ? `param_name ${param.param_name} is used more than once` : null;
    seen.add(param.param_name);
    problems[`script_params[${i}].param_name`] = wordRule(param.param_name, LIMITS.paramName) ?? duplicate;
    problems[`script_params[${i}].param_value`] = paramValueRule(param.param_value);
    problems[`script_params[${i}].param_description`] = bounded(param.param_description, 0, LIMITS.paramDescription);
  });
  return Object.fromEntries(Object.entries(problems).filter((entry): entry is [string, string] => entry[1] !== null));
}
