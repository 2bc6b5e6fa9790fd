import { describe, expect, it } from "vitest";
import { agentPresence } from "./presence";

describe("agentPresence", () => {
  const at = new Date("2030-01-01T12:00:00Z");
  const secondsAgo = (seconds: number) =>
    new Date(at.getTime() - seconds * 1000);

  it("is online when seen lately and holding a task", () => {
    expect(
      agentPresence({ lastSeenAt: secondsAgo(5), holdsTask: true }, at),
    ).toBe("online");
  });

  it("is idle when seen lately with nothing held", () => {
    expect(
      agentPresence({ lastSeenAt: secondsAgo(5), holdsTask: false }, at),
    ).toBe("idle");
  });

  it("counts exactly two minutes as still seen, a second more as gone", () => {
    expect(
      agentPresence({ lastSeenAt: secondsAgo(120), holdsTask: false }, at),
    ).toBe("idle");
    expect(
      agentPresence({ lastSeenAt: secondsAgo(121), holdsTask: true }, at),
    ).toBe("offline");
  });

  it("is offline when never seen, even with a task on record", () => {
    expect(agentPresence({ lastSeenAt: null, holdsTask: true }, at)).toBe(
      "offline",
    );
  });
});
