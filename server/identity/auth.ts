import { betterAuth } from "better-auth";
import { drizzleAdapter } from "better-auth/adapters/drizzle";
import { nextCookies } from "better-auth/next-js";
import type { Database } from "@/db/client";
import { getDatabase } from "@/db/runtime";
import { account, session, user, verification } from "@/db/schema";
import { config } from "@/server/config";

// Sign-in for people, by email and password, through better-auth. Accounts
// are created by an admin, the CLI or the first-run setup page, never by
// open sign-up.

export interface AuthSettings {
  baseUrl: string;
  authSecret: string;
}

/** An auth instance over `db`; tests build one against their own database. */
export function buildAuth(db: Database, settings: AuthSettings = config()) {
  const origin = new URL(settings.baseUrl);
  const trusted = [settings.baseUrl];
  if (origin.hostname === "localhost") {
    trusted.push(`${origin.protocol}//127.0.0.1:${origin.port}`);
  }

  return betterAuth({
    appName: "Flotilla",
    baseURL: settings.baseUrl,
    secret: settings.authSecret,
    trustedOrigins: trusted,
    database: drizzleAdapter(db, {
      provider: "pg",
      schema: { user, session, account, verification },
    }),
    emailAndPassword: { enabled: true, disableSignUp: true },
    user: {
      additionalFields: {
        role: { type: "string", defaultValue: "operator", input: false },
      },
    },
    plugins: [nextCookies()],
  });
}

export type Auth = ReturnType<typeof buildAuth>;

const globalKey = Symbol.for("flotilla.auth");
type Holder = { [globalKey]?: Promise<Auth> };

export function getAuth(): Promise<Auth> {
  const holder = globalThis as Holder;
  holder[globalKey] ??= getDatabase().then(({ db }) => buildAuth(db));

  return holder[globalKey];
}
