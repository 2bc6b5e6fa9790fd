import { describe, expect, it } from "vitest";
import { dependencyOrder, planIssues, type PlanNode } from "./plan-graph";

const node = (key: string, ...dependsOn: string[]): PlanNode => ({
  key,
  dependsOn,
});

describe("planIssues", () => {
  it.each([
    {
      name: "a valid graph",
      nodes: [node("a"), node("b", "a"), node("c", "a", "b")],
      issues: [],
    },
    {
      name: "a duplicate key",
      nodes: [node("a"), node("b"), node("a")],
      issues: [
        { path: "tasks.2.key", message: "Key 'a' is already used by tasks.0" },
      ],
    },
    {
      name: "an unknown reference",
      nodes: [node("a"), node("b", "a", "zz")],
      issues: [
        {
          path: "tasks.1.dependsOn.1",
          message: "No task with key 'zz' in this plan",
        },
      ],
    },
    {
      name: "a task depending on itself",
      nodes: [node("a", "a")],
      issues: [{ path: "tasks.0.dependsOn.0", message: "Cycle: a → a" }],
    },
    {
      name: "a three-task cycle",
      nodes: [node("a", "c"), node("b", "a"), node("c", "b")],
      issues: [
        { path: "tasks.1.dependsOn.0", message: "Cycle: b → a → c → b" },
      ],
    },
  ])("finds $name", ({ nodes, issues }) => {
    expect(planIssues(nodes)).toEqual(issues);
  });
});

describe("dependencyOrder", () => {
  it("puts every task after what it depends on", () => {
    const nodes = [node("c", "b"), node("a"), node("b", "a")];
    const order = dependencyOrder(nodes).map((i) => nodes[i].key);
    expect(order).toEqual(["a", "b", "c"]);
  });
});
