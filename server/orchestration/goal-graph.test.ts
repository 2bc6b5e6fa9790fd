import { describe, expect, it } from "vitest";
import { layOutGraph } from "./goal-graph";

describe("layOutGraph", () => {
  const nodes = (...ids: string[]) => ids.map((id) => ({ id }));
  const placed = (
    result: { id: string; layer: number; row: number }[],
  ): Record<string, [number, number]> =>
    Object.fromEntries(result.map((n) => [n.id, [n.layer, n.row]]));

  it("puts a task right of the longest chain before it", () => {
    const result = layOutGraph(nodes("a", "b", "c", "d"), [
      { from: "a", to: "b" },
      { from: "b", to: "d" },
      { from: "c", to: "d" },
    ]);
    expect(placed(result)).toMatchObject({
      a: [0, expect.any(Number)],
      c: [0, expect.any(Number)],
      b: [1, 0],
      d: [2, 0],
    });
  });

  it("orders a layer by where its dependencies sit", () => {
    // x depends on the lower node of layer 0, y on the upper one.
    const result = layOutGraph(nodes("top", "bottom", "x", "y"), [
      { from: "bottom", to: "x" },
      { from: "top", to: "y" },
    ]);
    expect(placed(result)).toEqual({
      top: [0, 0],
      bottom: [0, 1],
      y: [1, 0],
      x: [1, 1],
    });
  });

  it("survives a cycle and edges to unknown tasks", () => {
    const result = layOutGraph(nodes("a", "b"), [
      { from: "a", to: "b" },
      { from: "b", to: "a" },
      { from: "ghost", to: "a" },
    ]);
    expect(result).toHaveLength(2);
    expect(new Set(result.map((n) => n.layer)).size).toBe(2);
  });
});
