import crypto from "node:crypto";
import { and, asc, eq, gt, isNotNull } from "drizzle-orm";
import { z } from "zod";
import type { Database } from "@/db/client";
import { agentSessions, events } from "@/db/schema";
import type { Actor } from "@/server/identity/actor";
import { requireProjectRole } from "@/server/identity/access";
import { notFound } from "@/server/errors";
import { parseInput } from "@/server/input";
import { canonicalJson } from "./canonical-json";

// Tamper evidence: each session's events form a hash chain in order of
// arrival. A link is sha256(previous link + digest of the event), where the
// digest covers the event's identity and content but not its cost or task
// link, so repricing an event or deleting a task leaves the chain intact
// while any edit of what the agent did breaks it.

/** The columns a link covers. */
export interface ChainedContent {
  eventKey: string;
  source: string;
  type: string;
  name: string;
  status: string;
  occurredAt: Date;
  durationMs: number | null;
  traceId: string | null;
  spanId: string | null;
  parentSpanId: string | null;
  toolName: string | null;
  model: string | null;
  provider: string | null;
  inputTokens: number | null;
  outputTokens: number | null;
  cacheReadTokens: number | null;
  cacheWrite5mTokens: number | null;
  cacheWrite1hTokens: number | null;
  input: unknown;
  output: unknown;
  attributes: unknown;
}

const chainedColumns = {
  eventKey: events.eventKey,
  source: events.source,
  type: events.type,
  name: events.name,
  status: events.status,
  occurredAt: events.occurredAt,
  durationMs: events.durationMs,
  traceId: events.traceId,
  spanId: events.spanId,
  parentSpanId: events.parentSpanId,
  toolName: events.toolName,
  model: events.model,
  provider: events.provider,
  inputTokens: events.inputTokens,
  outputTokens: events.outputTokens,
  cacheReadTokens: events.cacheReadTokens,
  cacheWrite5mTokens: events.cacheWrite5mTokens,
  cacheWrite1hTokens: events.cacheWrite1hTokens,
  input: events.input,
  output: events.output,
  attributes: events.attributes,
};

function sha256(text: string): string {
  return crypto.hash("sha256", text, "hex");
}

/** Canonical JSON texts of an event's input, output and attributes, made
 * once at ingest for both its digest and the jsonb it stores. */
export interface ContentJson {
  input: string;
  output: string;
  attributes: string;
}

export function contentJson(event: {
  input?: unknown;
  output?: unknown;
  attributes?: unknown;
}): ContentJson {
  return {
    input: canonicalJson(event.input ?? null),
    output: canonicalJson(event.output ?? null),
    attributes: canonicalJson(event.attributes ?? null),
  };
}

// The text a digest is taken of: canonicalJson of an object with these
// members, written directly in their sorted order so the event's content
// is serialised once. A member whose value is undefined is left out, as
// canonicalJson leaves it out (rows never hold undefined: null is kept).
function digestText(event: ChainedContent, json: ContentJson): string {
  const e = event;
  const tokens = `[${number(e.inputTokens)},${number(e.outputTokens)},${number(
    e.cacheReadTokens,
  )},${number(e.cacheWrite5mTokens)},${number(e.cacheWrite1hTokens)}]`;
  const plain = [
    e.durationMs,
    e.eventKey,
    e.model,
    e.name,
    e.parentSpanId,
    e.provider,
    e.source,
    e.spanId,
    e.status,
    e.toolName,
    e.traceId,
    e.type,
  ];
  if (plain.includes(undefined as never)) return digestTextLeavingOut(e, json);

  return (
    `{"at":"${e.occurredAt.toISOString()}","attributes":${json.attributes},` +
    `"durationMs":${canonicalJson(e.durationMs)},"input":${json.input},` +
    `"key":${canonicalJson(e.eventKey)},"model":${canonicalJson(e.model)},` +
    `"name":${canonicalJson(e.name)},"output":${json.output},` +
    `"parentSpanId":${canonicalJson(e.parentSpanId)},` +
    `"provider":${canonicalJson(e.provider)},` +
    `"source":${canonicalJson(e.source)},"spanId":${canonicalJson(e.spanId)},` +
    `"status":${canonicalJson(e.status)},"tokens":${tokens},` +
    `"toolName":${canonicalJson(e.toolName)},` +
    `"traceId":${canonicalJson(e.traceId)},"type":${canonicalJson(e.type)}}`
  );
}

// A token count as canonicalJson writes it inside an array.
function number(value: number | null): string {
  return canonicalJson(value);
}

// The same text when some member is undefined, for callers outside ingest.
function digestTextLeavingOut(
  event: ChainedContent,
  json: ContentJson,
): string {
  const members: [string, unknown][] = [
    ["at", event.occurredAt.toISOString()],
    ["attributes", json.attributes],
    ["durationMs", event.durationMs],
    ["input", json.input],
    ["key", event.eventKey],
    ["model", event.model],
    ["name", event.name],
    ["output", json.output],
    ["parentSpanId", event.parentSpanId],
    ["provider", event.provider],
    ["source", event.source],
    ["spanId", event.spanId],
    ["status", event.status],
    [
      "tokens",
      [
        event.inputTokens,
        event.outputTokens,
        event.cacheReadTokens,
        event.cacheWrite5mTokens,
        event.cacheWrite1hTokens,
      ],
    ],
    ["toolName", event.toolName],
    ["traceId", event.traceId],
    ["type", event.type],
  ];
  const texts = members.flatMap(([key, value]) => {
    if (value === undefined) return [];
    // input, output and attributes arrive as canonical text already.
    const text =
      key === "input" || key === "output" || key === "attributes"
        ? (value as string)
        : canonicalJson(value);

    return [`"${key}":${text}`];
  });

  return `{${texts.join(",")}}`;
}

/** The digest of one event: the same for the row as written and as read
 * back (keys sorted, so jsonb's key order does not matter). `json` is the
 * event's contentJson when the caller has it already. */
export function eventDigest(
  event: ChainedContent,
  json: ContentJson = contentJson(event),
): string {
  return sha256(digestText(event, json));
}

/** The link after `previous` (null at the start of the chain). */
export function chainLink(previous: string | null, digest: string): string {
  return sha256(`${previous ?? ""}:${digest}`);
}

export const verifyChainInput = z.object({
  project: z.string().min(1),
  /** Flotilla's session id. */
  sessionId: z.uuid(),
});

export type ChainVerdict =
  | {
      verified: true;
      length: number;
      /** Events 1..prunedThrough were removed by retention; the chain is
       * verified from the link they left. */
      prunedThrough: number;
    }
  | {
      verified: false;
      length: number;
      prunedThrough: number;
      /** The position (1-based) of the first link that does not hold. */
      brokenAt: number;
      eventId: string | null;
      reason: string;
    };

const PAGE = 1000;

/** Recomputes a session's chain from its stored events and reports the
 * first link that does not hold: an edited event, a missing or inserted
 * one, or a head that does not match the last event. */
export async function verifySessionChain(
  db: Database,
  actor: Actor,
  input: unknown,
): Promise<ChainVerdict> {
  const { project: slug, sessionId } = parseInput(verifyChainInput, input);
  const { project } = await requireProjectRole(db, actor, slug, "viewer");
  const [session] = await db
    .select({
      chainHead: agentSessions.chainHead,
      chainLength: agentSessions.chainLength,
      prunedThrough: agentSessions.prunedThroughSeq,
      prunedHash: agentSessions.prunedChainHash,
    })
    .from(agentSessions)
    .where(
      and(
        eq(agentSessions.id, sessionId),
        eq(agentSessions.projectId, project.id),
      ),
    );
  if (!session) throw notFound("Session", sessionId);

  const prunedThrough = session.prunedThrough;
  let previous: string | null = prunedThrough > 0 ? session.prunedHash : null;
  let expected = prunedThrough + 1;
  for (;;) {
    const rows = await db
      .select({
        id: events.id,
        chainSeq: events.chainSeq,
        chainHash: events.chainHash,
        ...chainedColumns,
      })
      .from(events)
      .where(
        and(
          eq(events.sessionId, sessionId),
          isNotNull(events.chainSeq),
          gt(events.chainSeq, expected - 1),
        ),
      )
      .orderBy(asc(events.chainSeq))
      .limit(PAGE);
    for (const row of rows) {
      const broken = (reason: string): ChainVerdict => ({
        verified: false,
        length: session.chainLength,
        prunedThrough,
        brokenAt: expected,
        eventId: row.id,
        reason,
      });
      if (row.chainSeq !== expected) {
        return broken(`event ${expected} is missing`);
      }
      const link = chainLink(previous, eventDigest(row));
      if (link !== row.chainHash) {
        return broken(`event ${expected} does not match its link`);
      }
      previous = link;
      expected += 1;
    }
    if (rows.length < PAGE) break;
  }

  const length = expected - 1;
  if (length !== session.chainLength || previous !== session.chainHead) {
    return {
      verified: false,
      length: session.chainLength,
      prunedThrough,
      brokenAt: length + 1,
      eventId: null,
      reason:
        length < session.chainLength
          ? `event ${length + 1} is missing`
          : "the chain does not end at the session's head",
    };
  }

  return { verified: true, length, prunedThrough };
}
