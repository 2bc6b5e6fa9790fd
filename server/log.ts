import pino from "pino";

// JSON logs in production, readable lines in development. Request loggers
// are children carrying the request's ids; payloads are never logged.

const level =
  process.env.LOG_LEVEL ??
  (process.env.NODE_ENV === "test" ? "silent" : "info");
const pretty =
  process.env.NODE_ENV !== "production" &&
  process.env.NODE_ENV !== "test" &&
  process.stdout.isTTY;

export const logger = pino({
  level,
  base: { service: "flotilla" },
  ...(pretty
    ? { transport: { target: "pino-pretty", options: { colorize: true } } }
    : {}),
});
