"use client";

import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "@/components/trpc";

// An operator's hands on a task: take it back from its holder, or withdraw
// it. Both are audited by the domain.

export function TaskActions(props: {
  task: { id: string; title: string; status: string };
}) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  // A task changes the board, the goal's counts and the goals list.
  const refresh = () =>
    Promise.all([
      queryClient.invalidateQueries(trpc.orchestration.tasks.pathFilter()),
      queryClient.invalidateQueries(trpc.orchestration.goals.pathFilter()),
    ]);
  const release = useMutation(
    trpc.orchestration.tasks.release.mutationOptions({ onSuccess: refresh }),
  );
  const cancel = useMutation(
    trpc.orchestration.tasks.cancel.mutationOptions({ onSuccess: refresh }),
  );
  const review = useMutation(
    trpc.orchestration.tasks.review.mutationOptions({ onSuccess: refresh }),
  );
  const inReview = props.task.status === "in_review";
  const held = ["claimed", "in_progress"].includes(props.task.status);
  // Final states offer nothing; the domain refuses what the state machine
  // does not allow, and the message says why.
  const open = !["done", "failed", "cancelled"].includes(props.task.status);
  const error = release.error ?? cancel.error ?? review.error;
  if (!open) return null;

  return (
    <div className="row">
      {inReview && (
        <>
          <button
            type="button"
            disabled={review.isPending}
            aria-label={`Accept ${props.task.title}`}
            onClick={() =>
              review.mutate({ taskId: props.task.id, decision: "accept" })
            }
          >
            Accept
          </button>
          <button
            type="button"
            className="secondary"
            disabled={review.isPending}
            aria-label={`Send back ${props.task.title}`}
            onClick={() => {
              const comment = window.prompt(
                `Send '${props.task.title}' back: what should change?`,
              );
              if (comment !== null) {
                review.mutate({
                  taskId: props.task.id,
                  decision: "return",
                  comment,
                });
              }
            }}
          >
            Send back
          </button>
        </>
      )}
      {held && (
        <button
          type="button"
          className="secondary"
          disabled={release.isPending}
          aria-label={`Release ${props.task.title}`}
          onClick={() => release.mutate({ taskId: props.task.id })}
        >
          Release
        </button>
      )}
      <button
        type="button"
        className="secondary"
        disabled={cancel.isPending}
        aria-label={`Cancel ${props.task.title}`}
        onClick={() => {
          if (window.confirm(`Cancel task '${props.task.title}'?`)) {
            cancel.mutate({ taskId: props.task.id });
          }
        }}
      >
        Cancel
      </button>
      {error && <span className="error">{error.message}</span>}
    </div>
  );
}
