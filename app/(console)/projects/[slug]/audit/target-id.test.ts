import { describe, expect, it } from "vitest";
import { shortTargetId } from "./target-id";

describe("shortTargetId", () => {
  it("cuts a uuid to its first 8 characters", () => {
    expect(shortTargetId("4285a43a-0c1d-4e2f-9a3b-5c6d7e8f9a0b")).toBe(
      "4285a43a",
    );
  });

  it("shows any other id whole, so two releases stay apart", () => {
    expect(shortTargetId("nextjs@16.2.0")).toBe("nextjs@16.2.0");
    expect(shortTargetId("nextjs@16.5.0")).toBe("nextjs@16.5.0");
    expect(shortTargetId("default")).toBe("default");
  });
});
