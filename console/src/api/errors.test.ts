import { describe, expect, it } from "vitest";
import { ApiError, errorFor, fieldOf, generalError } from "./errors";

describe("API errors", () => {
  it("finds the field a message names", () => {
    expect(fieldOf("script_params[0].param_value: must not contain '..'")).toBe("script_params[0].param_value");
    expect(fieldOf("name: may contain only letters, digits and underscores")).toBe("name");
    expect(fieldOf("the access key is unknown")).toBeNull();
  });
  it("puts an error beside its field, else in general", () => {
    const error = new ApiError(400, "COC.00040601", "properties.version: must be at most 10 characters");
    expect(errorFor(error, "properties.version")).toContain("at most 10");
    expect(errorFor(error, "properties")).toContain("at most 10");
    expect(errorFor(error, "name")).toBeUndefined();
    expect(generalError(error, ["properties.version"])).toBeUndefined();
    expect(generalError(error, ["name"])).toContain("at most 10");
  });
});
