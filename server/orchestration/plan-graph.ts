import type { FieldIssue } from "@/server/errors";

// The checks a plan's task list passes before it is stored: keys are unique,
// every dependency names a task of the same plan, and dependencies form no
// cycle. Pure functions, so the rules are tested without a database.

export interface PlanNode {
  key: string;
  dependsOn: string[];
}

/** Every problem of the list, each at the field path a form can show. */
export function planIssues(nodes: PlanNode[]): FieldIssue[] {
  const issues: FieldIssue[] = [];
  const firstIndex = new Map<string, number>();
  nodes.forEach((node, index) => {
    const earlier = firstIndex.get(node.key);
    if (earlier === undefined) {
      firstIndex.set(node.key, index);
    } else {
      issues.push({
        path: `tasks.${index}.key`,
        message: `Key '${node.key}' is already used by tasks.${earlier}`,
      });
    }
  });
  nodes.forEach((node, index) => {
    node.dependsOn.forEach((key, m) => {
      if (!firstIndex.has(key)) {
        issues.push({
          path: `tasks.${index}.dependsOn.${m}`,
          message: `No task with key '${key}' in this plan`,
        });
      }
    });
  });
  // A cycle is only meaningful once every key names exactly one task.
  if (issues.length > 0) return issues;

  return cycleIssues(nodes, firstIndex);
}

/**
 * One issue per dependency that closes a cycle, found by a depth-first walk
 * in plan order. The message names the cycle by keys, starting at the task
 * whose dependency closes it: "a → b → a".
 */
function cycleIssues(
  nodes: PlanNode[],
  indexOf: Map<string, number>,
): FieldIssue[] {
  const issues: FieldIssue[] = [];
  // 0: not visited, 1: on the current path, 2: finished.
  const state = nodes.map(() => 0);
  const path: number[] = [];
  const visit = (index: number) => {
    state[index] = 1;
    path.push(index);
    nodes[index].dependsOn.forEach((key, m) => {
      const next = indexOf.get(key);
      if (next === undefined) return;
      if (state[next] === 1) {
        const loop = path.slice(path.indexOf(next));
        const keys = [index, ...loop].map((i) => nodes[i].key);
        issues.push({
          path: `tasks.${index}.dependsOn.${m}`,
          message: `Cycle: ${keys.join(" → ")}`,
        });
      } else if (state[next] === 0) {
        visit(next);
      }
    });
    path.pop();
    state[index] = 2;
  };
  nodes.forEach((_, index) => {
    if (state[index] === 0) visit(index);
  });

  return issues;
}

/** Indexes of `nodes` so that each comes after everything it depends on.
 * Assumes planIssues found nothing. */
export function dependencyOrder(nodes: PlanNode[]): number[] {
  const indexOf = new Map(nodes.map((node, index) => [node.key, index]));
  const done = new Set<number>();
  const order: number[] = [];
  const visit = (index: number) => {
    if (done.has(index)) return;
    done.add(index);
    for (const key of nodes[index].dependsOn) {
      const next = indexOf.get(key);
      if (next !== undefined) visit(next);
    }
    order.push(index);
  };
  nodes.forEach((_, index) => visit(index));

  return order;
}
