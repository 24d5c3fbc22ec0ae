// The browser's signer against the official SDK's own signatures: the vectors the Rust verifier is
// tested with (tests/sdk/signing_vectors.py writes them), and vector A of shared/src/auth/signature.rs.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { authorizationHeader, buildQuery, canonicalQuery, canonicalUri, sdkDate } from "./signing";

interface Vector {
  name: string;
  method: string;
  uri: string;
  headers: Record<string, string>;
  body: string;
  authorization: string;
  canonical_query?: string;
  pairs?: [string, string][];
  variants?: string[];
}

const file = new URL("../../shared/src/auth/testdata/sdk_signing_vectors.json", import.meta.url);
const { ak, sk, vectors } = JSON.parse(readFileSync(file, "utf8")) as { ak: string; sk: string; vectors: Vector[] };

function split(uri: string): [string, string] {
  const at = uri.indexOf("?");
  return at < 0 ? [uri, ""] : [uri.slice(0, at), uri.slice(at + 1)];
}

describe("SDK signing vectors", () => {
  it("holds the vectors", () => expect(vectors.length).toBeGreaterThan(20));

  for (const vector of vectors) {
    it(`signs ${vector.name} as the SDK does`, async () => {
      const [path, query] = split(vector.uri);
      const request = { method: vector.method, path, query, headers: vector.headers, body: vector.body };
      expect(await authorizationHeader(ak, sk, request)).toBe(vector.authorization);
    });

    if (vector.pairs && vector.pairs.length > 0) {
      it(`builds the query of ${vector.name} that the SDK sends`, async () => {
        const query = buildQuery(vector.pairs!);
        expect(canonicalQuery(query)).toBe(vector.canonical_query);
        const request = { method: vector.method, path: split(vector.uri)[0], query, headers: vector.headers, body: "" };
        expect(await authorizationHeader(ak, sk, request)).toBe(vector.authorization);
      });
    }

    for (const variant of vector.variants ?? []) {
      it(`reads ${JSON.stringify(variant)} as the same pairs (${vector.name})`, () => {
        expect(canonicalQuery(variant)).toBe(vector.canonical_query);
      });
    }
  }
});

describe("vector A of signature.rs", () => {
  it("signs a POST with a body", async () => {
    const request = {
      method: "POST",
      path: "/v1/job/scripts/SC2024010100000001",
      query: "",
      headers: {
        "content-type": "application/json;charset=utf-8",
        host: "127.0.0.1:9000",
        "user-agent": "huaweicloud-usdk-python/3.0",
        "x-project-id": "0123456789abcdef0123456789abcdef",
        "x-sdk-date": "20240101T000000Z",
      },
      body: '{"execute_param": {"timeout": 300}}',
    };
    const header = await authorizationHeader("AK", "EXAMPLESK00000000000000000000000000000000", request);
    expect(header.split("Signature=")[1]).toBe("0a3ba25e9557419e59a9c600c63338c600a135679f7a264ad427ede8fe7cb6a9");
    // Another secret or another body is another signature.
    expect(await authorizationHeader("AK", "other", request)).not.toBe(header);
    expect(await authorizationHeader("AK", "EXAMPLESK00000000000000000000000000000000", { ...request, body: "{}" })).not.toBe(
      header,
    );
  });
});

describe("pieces", () => {
  it("ends canonical URIs with a slash and re-encodes segments", () => {
    expect(canonicalUri("/v1/auth/tokens")).toBe("/v1/auth/tokens/");
    expect(canonicalUri("/v1/job/scripts/SC%20a%2bb")).toBe("/v1/job/scripts/SC%20a%2Bb/");
  });
  it("formats X-Sdk-Date in UTC", () => {
    expect(sdkDate(new Date(Date.UTC(2024, 0, 2, 3, 4, 5, 678)))).toBe("20240102T030405Z");
  });
});
