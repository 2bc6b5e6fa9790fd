#!/usr/bin/env node
// Serves the built console (what `next start` does), behind a Node HTTP
// server of our own that first refuses the methods no route can take
// (./methods.mjs): Next.js would fail on TRACE with a 500. Started by
// ./start.mjs; takes -H/--hostname and -p/--port (else PORT, else 3000).
import http from "node:http";
import path from "node:path";
import next from "next";
import pino from "pino";
import { refuseTunnel, refuseUnroutableMethods } from "./methods.mjs";

const root = path.resolve(import.meta.dirname, "..");

function refuse(message) {
  console.error(message);
  process.exit(2);
}

function parseOptions(args) {
  const options = { hostname: undefined, port: process.env.PORT ?? "3000" };
  for (let i = 0; i < args.length; i++) {
    const [flag, inline] = args[i].split(/=(.*)/s, 2);
    const name =
      flag === "-H" || flag === "--hostname"
        ? "hostname"
        : flag === "-p" || flag === "--port"
          ? "port"
          : null;
    if (!name) {
      refuse(
        `Unknown option ${args[i]}: the console takes -H/--hostname and ` +
          "-p/--port",
      );
    }
    const value = inline ?? args[++i];
    if (!value) refuse(`${flag} needs a value`);
    options[name] = value;
  }
  const port = Number(options.port);
  if (!/^\d+$/.test(options.port) || port < 1 || port > 65535) {
    refuse(`Port ${options.port} is not a port number (1-65535)`);
  }

  return { hostname: options.hostname, port };
}

const { hostname, port } = parseOptions(process.argv.slice(2));
// The console's own address (server/config.ts: sign-in checks the origin
// against it) comes from PORT, as under `next start`.
process.env.PORT = String(port);
const logger = pino({
  level: process.env.LOG_LEVEL ?? "info",
  base: { service: "flotilla" },
});
const app = next({ dev: false, dir: root, hostname, port });
// Requests wait for Next.js to be ready; it is prepared only once the port
// is ours, so a busy port opens no database.
let handle = null;
let ready = null;
const server = http.createServer(
  refuseUnroutableMethods(
    async (request, response) => {
      handle ??= await ready;
      return handle(request, response);
    },
    { logger },
  ),
);
server.on("connect", refuseTunnel({ logger }));
server.on("error", (error) => {
  const where = `${hostname ?? "every interface"} port ${port}`;
  console.error(
    error.code === "EADDRINUSE"
      ? `Cannot listen on ${where}: it is in use. Stop what holds it, or ` +
          "choose another port with -p or PORT."
      : `Cannot listen on ${where}: ${error.message}`,
  );
  process.exit(1);
});
server.listen(port, hostname, () => {
  ready = app.prepare().then(() => app.getRequestHandler());
  ready.then(
    () => {
      const shown = hostname && hostname !== "0.0.0.0" ? hostname : "localhost";
      console.log(`Flotilla console ready on http://${shown}:${port}`);
    },
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
});
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    server.close();
    process.exit(0);
  });
}
