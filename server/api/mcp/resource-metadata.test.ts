import { afterEach, describe, expect, it, vi } from "vitest";
import { GET as mcpMetadata } from "@/app/.well-known/oauth-protected-resource/api/mcp/route";
import { mcpResourceMetadataUrl, metadataUrlFor } from "./resource-metadata";

// Behind a proxy the request's own URL is the inner address; the public
// one comes from FLOTILLA_BASE_URL.

afterEach(() => vi.unstubAllEnvs());

const inner = (path: string) => new Request(`http://10.0.0.7:3000${path}`);

describe("protected resource metadata", () => {
  it("names the address the request came to when no base URL is set", async () => {
    vi.stubEnv("FLOTILLA_BASE_URL", "");
    const response = mcpMetadata(
      inner("/.well-known/oauth-protected-resource/api/mcp"),
    );

    expect(await response.json()).toMatchObject({
      resource: "http://10.0.0.7:3000/api/mcp",
    });
  });

  it("names the public address from FLOTILLA_BASE_URL", async () => {
    vi.stubEnv("FLOTILLA_BASE_URL", "https://flotilla.example.com/");
    const response = mcpMetadata(
      inner("/.well-known/oauth-protected-resource/api/mcp"),
    );

    expect(await response.json()).toEqual({
      resource: "https://flotilla.example.com/api/mcp",
      resource_name: "Flotilla",
      bearer_methods_supported: ["header"],
      resource_documentation: "https://flotilla.example.com/api-reference",
    });
    expect(mcpResourceMetadataUrl(inner("/api/mcp"))).toBe(
      "https://flotilla.example.com/.well-known/oauth-protected-resource/api/mcp",
    );
  });

  it("inserts the well-known path between the host and the path", () => {
    expect(metadataUrlFor("https://h.example/api/mcp")).toBe(
      "https://h.example/.well-known/oauth-protected-resource/api/mcp",
    );
    expect(metadataUrlFor("https://h.example")).toBe(
      "https://h.example/.well-known/oauth-protected-resource",
    );
  });
});

describe("the address a client dialed", () => {
  const dialed = (headers: Record<string, string>) =>
    new Request("http://localhost:3000/api/mcp", { headers });

  it("follows the Host header and a proxy's forwarded host and protocol", () => {
    vi.stubEnv("FLOTILLA_BASE_URL", "");
    expect(mcpResourceMetadataUrl(dialed({ host: "127.0.0.1:3377" }))).toBe(
      "http://127.0.0.1:3377/.well-known/oauth-protected-resource/api/mcp",
    );
    expect(
      mcpResourceMetadataUrl(
        dialed({
          host: "10.0.0.7:3000",
          "x-forwarded-host": "ops.example.com",
          "x-forwarded-proto": "https",
        }),
      ),
    ).toBe(
      "https://ops.example.com/.well-known/oauth-protected-resource/api/mcp",
    );
  });

  it("ignores a host header that is not a host", () => {
    vi.stubEnv("FLOTILLA_BASE_URL", "");
    expect(
      mcpResourceMetadataUrl(dialed({ "x-forwarded-host": 'evil", x="1' })),
    ).toBe(
      "http://localhost:3000/.well-known/oauth-protected-resource/api/mcp",
    );
  });
});
