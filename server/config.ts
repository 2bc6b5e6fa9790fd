import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { z } from "zod";

// Environment variables, validated once at start-up. A bad value stops the
// process with a message naming the variable, instead of failing later.

const schema = z.object({
  DATABASE_URL: z
    .string()
    .regex(
      /^postgres(ql)?:\/\//,
      "must start with postgres:// or postgresql://",
    )
    .optional(),
  FLOTILLA_DATA_DIR: z.string().min(1).default(".flotilla/data"),
  FLOTILLA_BASE_URL: z.url().optional(),
  PORT: z.coerce.number().int().min(1).max(65535).default(3000),
  BETTER_AUTH_SECRET: z.string().min(32).optional(),
  LOG_LEVEL: z
    .enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"])
    .default("info"),
  NODE_ENV: z.string().default("development"),
  // How long a PreToolUse hook waits for a person to decide an "ask"
  // before it denies and tells the agent to retry; under Claude Code's
  // 60 s hook timeout.
  FLOTILLA_ASK_WAIT_SECONDS: z.coerce.number().min(0).max(55).default(50),
});

export type Config = z.infer<typeof schema> & {
  baseUrl: string;
  authSecret: string;
};

let cached: Config | null = null;

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const parsed = schema.safeParse({
    ...env,
    DATABASE_URL: env.DATABASE_URL || undefined,
    FLOTILLA_BASE_URL: env.FLOTILLA_BASE_URL || undefined,
    BETTER_AUTH_SECRET: env.BETTER_AUTH_SECRET || undefined,
  });
  if (!parsed.success) {
    const lines = parsed.error.issues.map(
      (issue) => `  ${issue.path.join(".")}: ${issue.message}`,
    );
    throw new Error(`Invalid configuration:\n${lines.join("\n")}`);
  }
  const values = parsed.data;

  return {
    ...values,
    baseUrl: values.FLOTILLA_BASE_URL ?? `http://localhost:${values.PORT}`,
    authSecret: values.BETTER_AUTH_SECRET ?? localSecret(values),
  };
}

export function config(): Config {
  cached ??= loadConfig();

  return cached;
}

// Without BETTER_AUTH_SECRET, a random secret is made once and kept beside
// the embedded data, so sign-ins survive a restart on a zero-setup install.
function localSecret(values: { FLOTILLA_DATA_DIR: string }): string {
  const file = path.join(
    path.dirname(path.resolve(values.FLOTILLA_DATA_DIR)),
    "auth-secret",
  );
  try {
    return fs.readFileSync(file, "utf8").trim();
  } catch {
    const secret = crypto.randomBytes(32).toString("base64url");
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, secret, { mode: 0o600 });

    return secret;
  }
}
