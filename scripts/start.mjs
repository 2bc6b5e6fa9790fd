#!/usr/bin/env node
// `npm start`: builds the console when the build is missing or older than
// the sources, then serves it on PORT (default 3000) with ./serve.mjs.
import { spawnSync, spawn } from "node:child_process";
import fs from "node:fs";
import path from "node:path";

const root = path.resolve(import.meta.dirname, "..");
// The console phones nowhere: no build telemetry.
process.env.NEXT_TELEMETRY_DISABLED ??= "1";
const distDir = process.env.FLOTILLA_NEXT_DIST_DIR ?? ".next";
const buildId = path.join(root, distDir, "BUILD_ID");
const sourceDirs = [
  "app",
  "components",
  "server",
  "db",
  "package.json",
  "next.config.ts",
];

function newestMtime(target) {
  const full = path.join(root, target);
  if (!fs.existsSync(full)) return 0;
  const stat = fs.statSync(full);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs;
  for (const entry of fs.readdirSync(full)) {
    newest = Math.max(newest, newestMtime(path.join(target, entry)));
  }

  return newest;
}

const builtAt = fs.existsSync(buildId) ? fs.statSync(buildId).mtimeMs : 0;
const sourcesAt = Math.max(...sourceDirs.map(newestMtime));
const nextBin = path.join(root, "node_modules", "next", "dist", "bin", "next");

if (builtAt < sourcesAt) {
  console.log(
    "Building the Flotilla console (first start or changed sources)…",
  );
  const build = spawnSync(process.execPath, [nextBin, "build"], {
    cwd: root,
    stdio: "inherit",
  });
  if (build.status !== 0) process.exit(build.status ?? 1);
}

// Served by ./serve.mjs rather than `next start`: it refuses methods no
// route can take before Next.js fails on them.
const port = process.env.PORT || "3000";
const server = spawn(
  process.execPath,
  [
    path.join(root, "scripts", "serve.mjs"),
    "-p",
    port,
    ...process.argv.slice(2),
  ],
  {
    cwd: root,
    stdio: "inherit",
    env: { ...process.env, NODE_ENV: "production" },
  },
);
for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => server.kill(signal));
}
server.on("exit", (code) => process.exit(code ?? 0));
