"use client";

import { useQuery } from "@tanstack/react-query";
import { useTRPC } from "@/components/trpc";

// For a task waiting to be claimed: what the claim rules say stops it
// (dependencies, a paused goal, budget, capabilities, an overlapping scope
// or reservation), or that the next claim can take it.

export function ClaimExplanation(props: { taskId: string }) {
  const trpc = useTRPC();
  const explanation = useQuery(
    trpc.orchestration.tasks.whyNotClaimed.queryOptions(
      { taskId: props.taskId },
      { refetchInterval: 5_000 },
    ),
  );
  const data = explanation.data;
  if (explanation.error) {
    return <p className="error">{explanation.error.message}</p>;
  }
  if (!data?.waiting) return null;
  const free = !data.skip || data.skip.reason === "none";

  return (
    <section className="panel" aria-labelledby="claim-explanation">
      <h2 id="claim-explanation">
        {free ? "Ready to be claimed" : "Why is this task not being claimed?"}
      </h2>
      <p data-testid="claim-reason" style={{ margin: 0 }}>
        <span className={`badge ${free ? "ok" : "warn"}`}>
          {free ? "claimable" : data.skip?.reason.replaceAll("_", " ")}
        </span>{" "}
        {data.skip?.message ??
          "Nothing stops this task; the next claim can take it"}
      </p>
    </section>
  );
}
