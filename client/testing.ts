import http from "node:http";
import type { AddressInfo } from "node:net";
import * as contextRoute from "@/app/api/agent/v1/context/route";
import * as contextDocsRoute from "@/app/api/agent/v1/context/docs/route";
import * as contextDocRoute from "@/app/api/agent/v1/context/docs/[id]/route";
import * as contextDocSectionsRoute from "@/app/api/agent/v1/context/docs/[id]/sections/route";
import * as contextDocRestoreRoute from "@/app/api/agent/v1/context/docs/[id]/restore/route";
import * as eventsRoute from "@/app/api/agent/v1/events/route";
import * as goalsRoute from "@/app/api/agent/v1/goals/route";
import * as completeRoute from "@/app/api/agent/v1/tasks/[id]/complete/route";
import * as failRoute from "@/app/api/agent/v1/tasks/[id]/fail/route";
import * as heartbeatRoute from "@/app/api/agent/v1/tasks/[id]/heartbeat/route";
import * as releaseRoute from "@/app/api/agent/v1/tasks/[id]/release/route";
import * as claimRoute from "@/app/api/agent/v1/tasks/claim/route";
import * as tasksRoute from "@/app/api/agent/v1/tasks/route";
import * as otlpLogsRoute from "@/app/api/otlp/v1/logs/route";
import * as otlpTracesRoute from "@/app/api/otlp/v1/traces/route";
import * as sessionRoute from "@/app/api/v1/projects/[slug]/sessions/[id]/route";
import * as spendRoute from "@/app/api/v1/projects/[slug]/spend/route";
import * as projectAgentsRoute from "@/app/api/v1/projects/[slug]/agents/route";
import * as projectGoalsRoute from "@/app/api/v1/projects/[slug]/goals/route";
import * as goalPlansRoute from "@/app/api/agent/v1/goals/[id]/plans/route";
import * as planRoute from "@/app/api/agent/v1/plans/[id]/route";
import * as claudeCodeHookRoute from "@/app/api/agent/v1/hooks/claude-code/route";

// Test support: the real route handlers the client calls, served on a
// loopback port the way Next.js would (node request in, web Request to the
// handler with its path params, web Response back out).

type RouteHandler = (
  request: Request,
  context: { params: Promise<Record<string, string>> },
) => Promise<Response>;

const routes: { pattern: string; methods: Record<string, RouteHandler> }[] = [
  { pattern: "/api/agent/v1/tasks/claim", methods: claimRoute },
  { pattern: "/api/agent/v1/tasks/:id/heartbeat", methods: heartbeatRoute },
  { pattern: "/api/agent/v1/tasks/:id/complete", methods: completeRoute },
  { pattern: "/api/agent/v1/tasks/:id/fail", methods: failRoute },
  { pattern: "/api/agent/v1/tasks/:id/release", methods: releaseRoute },
  { pattern: "/api/agent/v1/tasks", methods: tasksRoute },
  { pattern: "/api/agent/v1/goals", methods: goalsRoute },
  { pattern: "/api/agent/v1/context", methods: contextRoute },
  { pattern: "/api/agent/v1/context/docs", methods: contextDocsRoute },
  { pattern: "/api/agent/v1/context/docs/:id", methods: contextDocRoute },
  {
    pattern: "/api/agent/v1/context/docs/:id/sections",
    methods: contextDocSectionsRoute,
  },
  {
    pattern: "/api/agent/v1/context/docs/:id/restore",
    methods: contextDocRestoreRoute,
  },
  { pattern: "/api/agent/v1/events", methods: eventsRoute },
  { pattern: "/api/otlp/v1/traces", methods: otlpTracesRoute },
  { pattern: "/api/otlp/v1/logs", methods: otlpLogsRoute },
  { pattern: "/api/v1/projects/:slug/spend", methods: spendRoute },
  { pattern: "/api/v1/projects/:slug/sessions/:id", methods: sessionRoute },
  { pattern: "/api/v1/projects/:slug/agents", methods: projectAgentsRoute },
  { pattern: "/api/v1/projects/:slug/goals", methods: projectGoalsRoute },
  { pattern: "/api/agent/v1/goals/:id/plans", methods: goalPlansRoute },
  { pattern: "/api/agent/v1/plans/:id", methods: planRoute },
  {
    pattern: "/api/agent/v1/hooks/claude-code",
    methods: claudeCodeHookRoute,
  },
];

function match(pathname: string) {
  const parts = pathname.split("/");
  for (const route of routes) {
    const expected = route.pattern.split("/");
    if (expected.length !== parts.length) continue;
    const params: Record<string, string> = {};
    const fits = expected.every((part, i) => {
      if (part.startsWith(":")) {
        params[part.slice(1)] = decodeURIComponent(parts[i]);

        return parts[i] !== "";
      }

      return part === parts[i];
    });
    if (fits) return { route, params };
  }

  return null;
}

export interface LoopbackServer {
  url: string;
  close(): Promise<void>;
}

export async function startLoopbackServer(): Promise<LoopbackServer> {
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    const found = match(url.pathname);
    const method = req.method ?? "GET";
    const handler = found?.route.methods[method];
    if (!found || !handler) {
      res.writeHead(found ? 405 : 404).end();

      return;
    }
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) {
      if (typeof value === "string") headers.set(name, value);
      else if (Array.isArray(value)) headers.set(name, value.join(", "));
    }
    const response = await handler(
      new Request(url, {
        method,
        headers,
        body: chunks.length > 0 ? Buffer.concat(chunks) : undefined,
      }),
      { params: Promise.resolve(found.params) },
    );
    res.writeHead(response.status, Object.fromEntries(response.headers));
    res.end(Buffer.from(await response.arrayBuffer()));
  });
  await new Promise<void>((resolve) =>
    server.listen(0, "127.0.0.1", () => resolve()),
  );
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
