import { describe, expect, it } from "vitest";
import { GET, POST } from "./route";

describe("an API path no route answers", () => {
  it("gets a JSON 404 in the usual error shape", async () => {
    const response = await POST(
      new Request("http://test/api/otlp/v1/metrics", { method: "POST" }),
    );
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({
      error: {
        code: "not_found",
        message: "No API endpoint at POST /api/otlp/v1/metrics",
        details: null,
      },
    });
    const read = await GET(new Request("http://test/api/agent/v1/nothing"));
    expect(read.status).toBe(404);
  });
});
