import { z } from "zod";
import type { Database } from "@/db/client";
import type { Actor } from "@/server/identity/actor";
import { parseInput } from "@/server/input";
import { createTaskInput } from "./schemas";
import { createTask, getTask } from "./tasks";
import type { TaskView } from "./views";

// A subtask: work an agent splits off the task it is on, for itself or
// another agent to claim. Tasks have no parent column, so a subtask is an
// ordinary task of the parent's goal whose description opens with a line
// naming the parent. No dependency is added either way: the parent is
// usually held while its subtasks are made, and a subtask that needs other
// work first says so with dependsOn, as any task does.

export const createSubtaskInput = createTaskInput
  .omit({ goalId: true })
  .extend({ parentTaskId: z.uuid("Must be a UUID") })
  .strict();

export async function createSubtask(
  db: Database,
  actor: Actor,
  input: unknown,
): Promise<{ task: TaskView; parent: TaskView }> {
  const { parentTaskId, ...values } = parseInput(createSubtaskInput, input);
  const parent = await getTask(db, actor, { taskId: parentTaskId });
  const link = `Subtask of task ${parent.id} ('${parent.title}').`;
  const task = await createTask(db, actor, {
    ...values,
    goalId: parent.goalId,
    description: values.description ? `${link}\n\n${values.description}` : link,
  });

  return { task, parent };
}
