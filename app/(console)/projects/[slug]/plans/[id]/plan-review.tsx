"use client";

import Link from "next/link";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { fieldErrors, formError, formatTime } from "@/components/forms";
import { useTRPC } from "@/components/trpc";
import {
  planBadges,
  planStatusLabels,
  statusLabels,
  usd,
} from "../../goals/ui";

interface Props {
  project: string;
  planId: string;
  canOperate: boolean;
}

type Decision = "approve" | "reject" | "request_changes";

const decisionLabels: Record<Decision, string> = {
  approve: "Approve",
  request_changes: "Request changes",
  reject: "Reject",
};

// The plan review page: what the plan would create, what changed since the
// previous version, and the operator's decision with a comment.
export function PlanReview(props: Props) {
  const trpc = useTRPC();
  const plan = useQuery(
    trpc.orchestration.plans.get.queryOptions(
      { planId: props.planId },
      { refetchInterval: 2_000 },
    ),
  );
  if (plan.error) return <p className="error">{plan.error.message}</p>;
  if (!plan.data) return <p className="muted">Loading plan…</p>;
  const p = plan.data;
  const titles = new Map(p.tasks.map((t) => [t.key, t.title]));
  const superseded = p.latestVersion > p.version;

  return (
    <>
      <p>
        <Link href={`/projects/${props.project}/goals/${p.goalId}`}>
          ← {p.goalTitle}
        </Link>
      </p>
      <div className="row">
        <h1 style={{ margin: 0 }}>
          Plan v{p.version} for {p.goalTitle}
        </h1>
        <span className={`badge ${planBadges[p.status]}`} role="status">
          {planStatusLabels[p.status]}
        </span>
      </div>
      <p className="muted">
        Submitted by {p.author.label} at {formatTime(p.createdAt)}.{" "}
        {p.taskCount} tasks, estimated{" "}
        <strong>{usd(p.estimateTotalUsd)}</strong> in total.
      </p>
      {p.note && <p>{p.note}</p>}
      {superseded && (
        <p className="error">
          Version {p.latestVersion} of this plan replaces this one; review that
          version instead.
        </p>
      )}
      {p.reviewer && (
        <section className="panel" aria-labelledby="decision-heading">
          <h2 id="decision-heading">Decision</h2>
          <p>
            {planStatusLabels[p.status]} by {p.reviewer} at{" "}
            {formatTime(p.reviewedAt)}.
          </p>
          {p.reviewComment && <blockquote>{p.reviewComment}</blockquote>}
        </section>
      )}

      {p.diff && (
        <section className="panel" aria-labelledby="diff-heading">
          <h2 id="diff-heading">Changes since v{p.diff.previousVersion}</h2>
          {p.diff.added.length +
            p.diff.removed.length +
            p.diff.changed.length ===
            0 && <p className="muted">No task changed.</p>}
          <ul aria-label="Changes">
            {p.diff.added.map((t) => (
              <li key={`added-${t.key}`}>
                <span className="badge ok">added</span> {t.title} (
                <code>{t.key}</code>)
              </li>
            ))}
            {p.diff.removed.map((t) => (
              <li key={`removed-${t.key}`}>
                <span className="badge danger">removed</span> {t.title} (
                <code>{t.key}</code>)
              </li>
            ))}
            {p.diff.changed.map((t) => (
              <li key={`changed-${t.key}`}>
                <span className="badge warn">changed</span> {t.title} (
                <code>{t.key}</code>): {t.fields.join(", ")}
              </li>
            ))}
          </ul>
          <p>
            <Link
              href={`/projects/${props.project}/plans/${p.diff.previousPlanId}`}
            >
              Plan v{p.diff.previousVersion}
            </Link>
          </p>
        </section>
      )}

      <section className="panel" aria-labelledby="plan-tasks-heading">
        <h2 id="plan-tasks-heading">Tasks</h2>
        <table>
          <thead>
            <tr>
              <th>Key</th>
              <th>Task</th>
              <th>Scope</th>
              <th>Depends on</th>
              <th>Priority</th>
              <th>Estimate</th>
              <th>Capabilities</th>
              {p.taskIds.length > 0 && <th>Created task</th>}
            </tr>
          </thead>
          <tbody>
            {p.tasks.map((t) => (
              <tr key={t.key} aria-label={`Planned task ${t.title}`}>
                <td>
                  <code>{t.key}</code>
                </td>
                <td>
                  <strong>{t.title}</strong>
                  {t.description && <div>{t.description}</div>}
                  {t.acceptanceCriteria && (
                    <div className="muted">
                      Done when: {t.acceptanceCriteria}
                    </div>
                  )}
                </td>
                <td>
                  <code>{t.scope.join(", ")}</code>
                </td>
                <td>
                  {t.dependsOn.length === 0 ? (
                    <span className="muted">nothing</span>
                  ) : (
                    <ul style={{ margin: 0, paddingLeft: "1rem" }}>
                      {t.dependsOn.map((key) => (
                        <li key={key}>{titles.get(key) ?? key}</li>
                      ))}
                    </ul>
                  )}
                </td>
                <td>{t.priority}</td>
                <td>{t.estimateUsd === null ? "" : usd(t.estimateUsd)}</td>
                <td>{t.capabilities.join(", ")}</td>
                {p.taskIds.length > 0 && (
                  <td>
                    {t.taskId && (
                      <Link
                        href={`/projects/${props.project}/tasks/${t.taskId}`}
                      >
                        {t.taskStatus ? statusLabels[t.taskStatus] : "open"}
                      </Link>
                    )}
                  </td>
                )}
              </tr>
            ))}
          </tbody>
          <tfoot>
            <tr>
              <th colSpan={5}>Estimate total</th>
              <th>{usd(p.estimateTotalUsd)}</th>
            </tr>
          </tfoot>
        </table>
      </section>

      <PlanOverlaps
        project={props.project}
        planId={p.id}
        titles={titles}
        open={p.status === "submitted"}
      />

      {props.canOperate && p.status === "submitted" && !superseded && (
        <ReviewForm planId={p.id} />
      )}
    </>
  );
}

// Work already in flight, or reserved, whose files the plan's tasks would
// touch too: approving such a plan queues its tasks behind that work.
function PlanOverlaps(props: {
  project: string;
  planId: string;
  titles: Map<string, string>;
  open: boolean;
}) {
  const trpc = useTRPC();
  const overlaps = useQuery(
    trpc.orchestration.plans.overlaps.queryOptions(
      { planId: props.planId },
      { refetchInterval: props.open ? 5_000 : false },
    ),
  );

  return (
    <section className="panel" aria-labelledby="overlaps-heading">
      <h2 id="overlaps-heading">Overlaps with work in flight</h2>
      {overlaps.error && <p className="error">{overlaps.error.message}</p>}
      {overlaps.data?.length === 0 && (
        <p className="muted">
          No task in flight and no reservation touches these scopes.
        </p>
      )}
      {overlaps.data && overlaps.data.length > 0 && (
        <table aria-label="Overlaps">
          <thead>
            <tr>
              <th>Planned task</th>
              <th>Its scope</th>
              <th>Overlaps</th>
              <th>Their scope</th>
              <th>State</th>
              <th>Held by</th>
            </tr>
          </thead>
          <tbody>
            {overlaps.data.map((o) => (
              <tr key={`${o.key}-${o.kind}-${o.taskId ?? o.title}`}>
                <td>{props.titles.get(o.key) ?? o.key}</td>
                <td>
                  <code>{o.ours}</code>
                </td>
                <td>
                  {o.taskId ? (
                    <Link href={`/projects/${props.project}/tasks/${o.taskId}`}>
                      {o.title}
                    </Link>
                  ) : (
                    <>reservation</>
                  )}
                </td>
                <td>
                  <code>{o.theirs}</code>
                </td>
                <td>
                  {o.kind === "task"
                    ? (statusLabels[o.status as keyof typeof statusLabels] ??
                      o.status)
                    : o.status}
                </td>
                <td>{o.holder ?? <span className="muted">nobody yet</span>}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function ReviewForm(props: { planId: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [comment, setComment] = useState("");
  const review = useMutation(
    trpc.orchestration.plans.review.mutationOptions({
      onSuccess: () =>
        Promise.all([
          queryClient.invalidateQueries(trpc.orchestration.plans.pathFilter()),
          queryClient.invalidateQueries(trpc.orchestration.tasks.pathFilter()),
        ]),
    }),
  );
  const errors = fieldErrors(review.error);
  const problem = formError(review.error);

  return (
    <section className="panel" aria-labelledby="review-heading">
      <h2 id="review-heading">Review</h2>
      <form
        className="stack"
        aria-label="Review plan"
        onSubmit={(event) => event.preventDefault()}
      >
        <label>
          Comment
          <textarea
            name="comment"
            rows={3}
            value={comment}
            onChange={(event) => setComment(event.target.value)}
            aria-invalid={!!errors.comment}
          />
          {errors.comment && (
            <span className="field-error">{errors.comment}</span>
          )}
        </label>
        {problem && <p className="error">{problem}</p>}
        <div className="row">
          {(Object.keys(decisionLabels) as Decision[]).map((decision) => (
            <button
              key={decision}
              type="button"
              className={
                decision === "approve"
                  ? undefined
                  : decision === "reject"
                    ? "danger"
                    : "secondary"
              }
              disabled={review.isPending}
              onClick={() =>
                review.mutate({ planId: props.planId, decision, comment })
              }
            >
              {decisionLabels[decision]}
            </button>
          ))}
        </div>
      </form>
    </section>
  );
}
