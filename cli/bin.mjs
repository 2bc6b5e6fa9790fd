#!/usr/bin/env node
// Entry point of the `flotilla` command: loads the TypeScript sources
// through tsx so the CLI shares the server's domain code.
import path from "node:path";
import { pathToFileURL } from "node:url";
import { register } from "tsx/esm/api";

const root = path.resolve(import.meta.dirname, "..");
process.env.FLOTILLA_MIGRATIONS_DIR ??= path.join(root, "db", "migrations");
register({ tsconfig: path.join(root, "tsconfig.json") });
const { main } = await import(
  pathToFileURL(path.join(root, "cli", "main.ts")).href
);
process.exitCode = await main(process.argv);
