import { and, eq, isNull, lt, or } from "drizzle-orm";
import type { Database } from "@/db/client";
import { agents } from "@/db/schema";

// Whether an agent is around: every authenticated call it makes moves its
// last_seen_at forward, and the agents page reads online, idle or offline
// from that moment and whether it holds a task.

export type Presence = "online" | "idle" | "offline";

/** An agent not heard from for this long is offline. */
export const PRESENCE_WINDOW_MS = 2 * 60 * 1000;

/** last_seen_at is written at most this often per agent. */
export const PRESENCE_WRITE_INTERVAL_MS = 15 * 1000;

/**
 * Online: seen within the window and holding a task. Idle: seen within the
 * window, holding nothing. Offline: not seen within the window, or never.
 * Whether the agent is paused is shown beside this, not folded into it.
 */
export function agentPresence(
  agent: { lastSeenAt: Date | null; holdsTask: boolean },
  at: Date,
): Presence {
  if (!agent.lastSeenAt) return "offline";
  const quietMs = at.getTime() - agent.lastSeenAt.getTime();
  if (quietMs > PRESENCE_WINDOW_MS) return "offline";

  return agent.holdsTask ? "online" : "idle";
}

// When this process last wrote each agent's last_seen_at; saves a query on
// most calls. Other instances are kept in step by the conditional update.
const lastWrites = new Map<string, number>();
const MAX_REMEMBERED = 10_000;

/** Records that an agent just made an authenticated call, writing at most
 * once per PRESENCE_WRITE_INTERVAL_MS per agent. */
export async function touchAgentPresence(
  db: Database,
  agentId: string,
  at: Date,
): Promise<void> {
  const previous = lastWrites.get(agentId);
  if (
    previous !== undefined &&
    at.getTime() - previous < PRESENCE_WRITE_INTERVAL_MS &&
    at.getTime() >= previous
  ) {
    return;
  }
  if (lastWrites.size >= MAX_REMEMBERED) lastWrites.clear();
  lastWrites.set(agentId, at.getTime());

  const staleBefore = new Date(at.getTime() - PRESENCE_WRITE_INTERVAL_MS);
  await db
    .update(agents)
    .set({ lastSeenAt: at })
    .where(
      and(
        eq(agents.id, agentId),
        or(isNull(agents.lastSeenAt), lt(agents.lastSeenAt, staleBefore)),
      ),
    );
}
