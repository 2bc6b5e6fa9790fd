import { pathMatches } from "@/server/guardrails/match";

// Red flags: what an operator must see even when nothing failed. Rules run
// at ingest on each event's tool input, result and command; what they find
// is stored beside the event (event_flags) with an excerpt whose secrets are
// masked. Secrets are also masked wherever events are displayed. Besides
// the built-in rules here, a project may add its own (flag-rules.ts): a
// substring of the input or output, or a glob over the paths written.

export const flagSeverities = ["low", "medium", "high", "critical"] as const;
export type FlagSeverity = (typeof flagSeverities)[number];

export interface Flag {
  rule: string;
  severity: FlagSeverity;
  /** The text around the finding, secrets masked. */
  excerpt: string;
}

/** What the rules read of an event. */
export interface FlaggableEvent {
  type: string;
  toolName?: string | null;
  input?: unknown;
  output?: unknown;
}

interface SecretPattern {
  rule: string;
  pattern: RegExp;
  /** Only where no other pattern matched: a known kind of secret is
   * reported as that kind, not twice. */
  fallback?: boolean;
  /** The masked form of one match. */
  mask: (match: string) => string;
}

const EXCERPT_RADIUS = 60;
const MAX_EXCERPT = 240;
// Long values are scanned in full but walked string by string; this bounds
// the strings one event contributes so a huge result cannot stall ingest.
const MAX_SCANNED_CHARS = 1_000_000;

function keepPrefix(length: number) {
  return (match: string) => `${match.slice(0, length)}****[masked]`;
}

// Each pattern is global: masking replaces every occurrence.
const secretPatterns: SecretPattern[] = [
  {
    rule: "secret.private-key",
    pattern:
      /-----BEGIN ((?:[A-Z0-9]+ )*)PRIVATE KEY-----[\s\S]*?(?:-----END \1PRIVATE KEY-----|$)/g,
    mask: () => "-----BEGIN PRIVATE KEY----- ****[masked]",
  },
  {
    rule: "secret.aws-access-key",
    pattern: /\b(?:AKIA|ASIA|AGPA|AIDA|AROA)[0-9A-Z]{16}\b/g,
    mask: keepPrefix(4),
  },
  {
    rule: "secret.github-token",
    pattern: /\b(?:gh[pousr]_[A-Za-z0-9]{36,}|github_pat_[A-Za-z0-9_]{22,})/g,
    mask: keepPrefix(4),
  },
  {
    rule: "secret.slack-token",
    pattern: /\bxox[abposre]-[A-Za-z0-9-]{10,}/g,
    mask: keepPrefix(5),
  },
  {
    rule: "secret.anthropic-key",
    pattern: /\bsk-ant-[A-Za-z0-9_-]{20,}/g,
    mask: keepPrefix(7),
  },
  {
    rule: "secret.openai-key",
    // sk-ant- keys are Anthropic's, matched above.
    pattern: /\bsk-(?!ant-)(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}/g,
    mask: keepPrefix(3),
  },
  {
    rule: "secret.assignment",
    // NAME=value or name: value where the name ends in secret, password,
    // token or *_key (env files, shell exports, ~/.aws/credentials, YAML):
    // a value of 12 or more characters with a letter in it. Only the value
    // is masked. The look-aheads read at most 256 characters of the value,
    // so a long run of near-misses is scanned in linear time.
    pattern:
      /\b[A-Za-z0-9_]*?(?:secret|password|passwd|token|api_?key|access_?key|private_?key|secret_?key)\s*[=:]\s*["']?(?=[^\s"'#,;]{0,256}[A-Za-z])(?![^\s"'#,;]{0,256}\*\*\*\*\[masked\])[^\s"'#,;$]{12,}/gi,
    mask: (match) => match.replace(/([=:]\s*["']?).*$/, "$1****[masked]"),
    fallback: true,
  },
  {
    rule: "secret.connection-string",
    // scheme://user:password@host: only the password is masked.
    pattern:
      /\b(?:postgres(?:ql)?|mysql|mariadb|mongodb(?:\+srv)?|redis|rediss|amqps?|mssql|sqlserver):\/\/[^\s:/@'"]*:[^\s@/'"]+@[^\s'"]+/gi,
    mask: (match) => match.replace(/(:\/\/[^\s:/@]*:)[^\s@/]+@/, "$1****@"),
  },
];

const secretSeverity: FlagSeverity = "critical";

/** `text` with every secret the rules know masked. */
export function maskSecrets(text: string): string {
  let masked = text;
  // Known kinds first; the name=value fallback skips values already masked.
  const ordered = [
    ...secretPatterns.filter((p) => !p.fallback),
    ...secretPatterns.filter((p) => p.fallback),
  ];
  for (const { pattern, mask } of ordered) {
    masked = masked.replace(pattern, mask);
  }

  return masked;
}

/** A JSON value with every string's secrets masked, for display. */
export function maskValue(value: unknown): unknown {
  if (typeof value === "string") return maskSecrets(value);
  if (Array.isArray(value)) return value.map(maskValue);
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(value)) {
      out[key] = maskValue(child);
    }

    return out;
  }

  return value;
}

// Where secrets sit in `text`, so an excerpt never cuts one in half (half
// a key no longer matches its pattern and would be shown unmasked): every
// pattern's matches, overlapping ones merged, in order. Merged spans are
// disjoint, so one pass widens a window to cover all it touches.
function secretSpans(text: string): [number, number][] {
  const spans: [number, number][] = [];
  for (const { pattern } of secretPatterns) {
    for (const match of text.matchAll(pattern)) {
      spans.push([match.index, match.index + match[0].length]);
    }
  }

  return mergeSpans(spans);
}

function mergeSpans(spans: [number, number][]): [number, number][] {
  spans.sort((a, b) => a[0] - b[0]);
  const merged: [number, number][] = [];
  for (const [start, end] of spans) {
    const last = merged.at(-1);
    if (last && start < last[1]) last[1] = Math.max(last[1], end);
    else merged.push([start, end]);
  }

  return merged;
}

// The first of the sorted, disjoint spans that ends after `at`.
function firstSpanEndingAfter(spans: [number, number][], at: number): number {
  let low = 0;
  let high = spans.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (spans[middle][1] > at) high = middle;
    else low = middle + 1;
  }

  return low;
}

function overlaps(spans: [number, number][], start: number, end: number) {
  const at = firstSpanEndingAfter(spans, start);

  return at < spans.length && spans[at][0] < end;
}

// An excerpt reads at most this much text. A window grows to cover the
// secrets it touches, which can reach across a whole output (a private key
// with no end line); past this size it is masked span by span instead.
const MAX_WINDOW = 2048;

type Excerpter = (start: number, end: number) => string;

/** Excerpts of one text: its secrets are found once, however many
 * findings it holds, and each excerpt masks only its own window. */
function excerptsOf(text: string): Excerpter {
  let spans: [number, number][] | null = null;
  const maskedSpans = new Map<number, string>();

  function maskedSpan(index: number, [start, end]: [number, number]) {
    let masked = maskedSpans.get(index);
    if (masked === undefined) {
      masked = maskSecrets(text.slice(start, end));
      maskedSpans.set(index, masked);
    }

    return masked;
  }

  // A window too long to mask whole: each secret span masked on its own
  // (once per text), the text between masked as it stands, until enough
  // is read for an excerpt.
  function maskLongWindow(
    spansOf: [number, number][],
    from: number,
    to: number,
  ) {
    let out = "";
    let position = from;
    let index = firstSpanEndingAfter(spansOf, from);
    while (position < to && out.length < MAX_WINDOW) {
      const span = index < spansOf.length ? spansOf[index] : null;
      const gapEnd = span && span[0] < to ? span[0] : to;
      if (position < gapEnd) {
        const room = MAX_WINDOW - out.length;
        out += maskSecrets(
          text.slice(position, Math.min(gapEnd, position + room)),
        );
        position = Math.min(gapEnd, position + room);
        continue;
      }
      if (!span) break;
      out += maskedSpan(index, span).slice(0, MAX_WINDOW - out.length);
      position = span[1];
      index += 1;
    }

    return { masked: out, cut: position < to };
  }

  return (start, end) => {
    spans ??= secretSpans(text);
    let from = Math.max(0, start - EXCERPT_RADIUS);
    let to = Math.min(text.length, end + EXCERPT_RADIUS);
    const first = firstSpanEndingAfter(spans, from);
    if (first < spans.length && spans[first][0] < to) {
      from = Math.min(from, spans[first][0]);
      let last = first;
      while (last + 1 < spans.length && spans[last + 1][0] < to) last += 1;
      to = Math.max(to, spans[last][1]);
    }
    const { masked, cut } =
      to - from > MAX_WINDOW
        ? maskLongWindow(spans, from, to)
        : { masked: maskSecrets(text.slice(from, to)), cut: false };
    const window = masked.replace(/\s+/g, " ").trim();
    const clipped =
      window.length > MAX_EXCERPT || cut
        ? `${window.slice(0, MAX_EXCERPT)}…`
        : window;

    return `${from > 0 ? "…" : ""}${clipped}${to < text.length ? "…" : ""}`;
  };
}

function excerpt(text: string, start: number, end: number): string {
  return excerptsOf(text)(start, end);
}

// Every string inside a value, with an explicit stack (values may nest
// deeply, see limits.ts).
function stringsIn(value: unknown): string[] {
  const out: string[] = [];
  let budget = MAX_SCANNED_CHARS;
  const stack: unknown[] = [value];
  while (stack.length > 0 && budget > 0) {
    const next = stack.pop();
    if (typeof next === "string") {
      out.push(next.slice(0, budget));
      budget -= next.length;
    } else if (Array.isArray(next)) {
      for (let i = next.length - 1; i >= 0; i -= 1) stack.push(next[i]);
    } else if (next && typeof next === "object") {
      stack.push(...Object.values(next).reverse());
    }
  }

  return out;
}

function secretFlags(texts: string[]): Flag[] {
  const flags: Flag[] = [];
  for (const text of texts) {
    const excerptAt = excerptsOf(text);
    const found: [number, number][] = [];
    for (const { rule, pattern } of secretPatterns.filter((p) => !p.fallback)) {
      for (const match of text.matchAll(pattern)) {
        const start = match.index;
        const end = start + match[0].length;
        found.push([start, end]);
        flags.push({
          rule,
          severity: secretSeverity,
          excerpt: excerptAt(start, end),
        });
      }
    }
    // The fallback reports only what no known kind covers.
    const known = mergeSpans(found);
    for (const { rule, pattern } of secretPatterns.filter((p) => p.fallback)) {
      for (const match of text.matchAll(pattern)) {
        const start = match.index;
        const end = start + match[0].length;
        if (overlaps(known, start, end)) continue;
        flags.push({
          rule,
          severity: secretSeverity,
          excerpt: excerptAt(start, end),
        });
      }
    }
  }

  return flags;
}

// ---- Commands: destructive shell and SQL ---------------------------------

const commandFields = ["command", "cmd", "script", "query", "sql"];

/** The commands an event runs: a string input, or the command-like fields
 * of an object input (Bash's `command`, a database tool's `query`). */
function commandsOf(event: FlaggableEvent): string[] {
  const input = event.input;
  if (typeof input === "string") {
    return event.type === "tool_call" ? [input] : [];
  }
  if (!input || typeof input !== "object" || Array.isArray(input)) return [];
  const fields = input as Record<string, unknown>;

  return commandFields.flatMap((field) =>
    typeof fields[field] === "string" ? [fields[field]] : [],
  );
}

// One simple command: its words, with quotes removed and a leading sudo,
// env assignments and command wrappers skipped.
function simpleCommands(command: string): string[][] {
  return command
    .split(/&&|\|\||[;|\n&]/)
    .map((segment) =>
      segment
        .trim()
        .split(/\s+/)
        .map((word) => word.replace(/^["']|["']$/g, ""))
        .filter((word) => word !== ""),
    )
    .map((words) => {
      let i = 0;
      while (
        i < words.length &&
        (words[i] === "sudo" ||
          words[i] === "command" ||
          words[i] === "exec" ||
          /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[i]))
      ) {
        i += 1;
      }

      return words.slice(i);
    })
    .filter((words) => words.length > 0);
}

// Paths whose recursive delete loses far more than a build directory: the
// root, home, the working directory itself, everything in it, or a top-level
// system directory.
const broadPath =
  /^(?:\/\*?|~\/?\*?|\$HOME\/?\*?|\$\{HOME\}\/?\*?|\.\/?\*?|\.\.\/?\*?|\*|\/(?:bin|boot|dev|etc|home|lib|lib64|opt|root|sbin|srv|usr|var|Users|System)\/?\*?)$/;

function isRecursiveFlag(word: string): boolean {
  return (
    word === "--recursive" ||
    (/^-[A-Za-z]+$/.test(word) && /[rR]/.test(word)) ||
    word === "--no-preserve-root"
  );
}

interface CommandRule {
  rule: string;
  severity: FlagSeverity;
  matches: (words: string[]) => boolean;
}

const commandRules: CommandRule[] = [
  {
    rule: "shell.recursive-delete",
    severity: "critical",
    matches: (words) =>
      words[0] === "rm" &&
      words.slice(1).some(isRecursiveFlag) &&
      words.slice(1).some((w) => !w.startsWith("-") && broadPath.test(w)),
  },
  {
    rule: "shell.disk-tool",
    severity: "critical",
    matches: (words) =>
      /^mkfs(?:\.[a-z0-9]+)?$/.test(words[0]) ||
      /^(?:wipefs|shred)$/.test(words[0]) ||
      (words[0] === "dd" &&
        words.some((w) =>
          /^of=\/dev\/(?:sd|hd|vd|xvd|nvme|mmcblk|disk|rdisk)/.test(w),
        )),
  },
  {
    rule: "shell.force-push",
    severity: "high",
    matches: (words) =>
      words[0] === "git" &&
      words.includes("push") &&
      words.some(
        (w) =>
          w === "--force" ||
          w === "-f" ||
          w.startsWith("--force-with-lease") ||
          /^\+[^\s]+/.test(w),
      ),
  },
  {
    rule: "shell.hard-reset",
    severity: "high",
    matches: (words) =>
      words[0] === "git" && words.includes("reset") && words.includes("--hard"),
  },
];

// A download piped straight into a shell: needs the pipe, so it is matched
// on the whole command rather than on one simple command. The downloader
// and the pipe sit in one command (no `|;&` or newline between them).
// Walked command by command, so a long line is read once, not once per
// `curl` in it.
const downloader = /\b(?:curl|wget)\b/g;
const commandEnd = /[|;&\n]/g;
const shellAfterPipe =
  /\s*(?:sudo\s+)?(?:\/(?:usr\/)?bin\/)?(?:sh|bash|zsh|dash|ksh)\b/y;

function pipeToShell(command: string): [number, number] | null {
  downloader.lastIndex = 0;
  for (
    let found = downloader.exec(command);
    found;
    found = downloader.exec(command)
  ) {
    commandEnd.lastIndex = found.index + found[0].length;
    const stop = commandEnd.exec(command);
    if (!stop) return null;
    if (stop[0] === "|") {
      shellAfterPipe.lastIndex = stop.index + 1;
      const shell = shellAfterPipe.exec(command);
      if (shell) return [found.index, shellAfterPipe.lastIndex];
    }
    // Any other downloader before `stop` ends at the same place.
    downloader.lastIndex = stop.index + 1;
  }

  return null;
}

function shellFlags(command: string): Flag[] {
  const excerptAt = excerptsOf(command);
  const flags: Flag[] = [];
  const seen = new Set<string>();
  for (const words of simpleCommands(command)) {
    for (const rule of commandRules) {
      if (seen.has(rule.rule) || !rule.matches(words)) continue;
      seen.add(rule.rule);
      const at = Math.max(0, command.indexOf(words[0]));
      flags.push({
        rule: rule.rule,
        severity: rule.severity,
        excerpt: excerptAt(at, at + words.join(" ").length),
      });
    }
  }
  const piped = pipeToShell(command);
  if (piped) {
    flags.push({
      rule: "shell.pipe-to-shell",
      severity: "high",
      excerpt: excerptAt(piped[0], piped[1]),
    });
  }

  return flags;
}

// SQL statements run to the next `;` outside a quoted value, or the line
// end.
const sqlStatement =
  /\b(DROP\s+(?:TABLE|DATABASE|SCHEMA)|TRUNCATE(?:\s+TABLE)?\s+(?!-)[\w."]+|DELETE\s+FROM\s+[\w."]+|UPDATE\s+[\w."]+\s+SET)\b(?:'[^'\n]*'|[^;\n'])*/gi;

function sqlFlags(command: string): Flag[] {
  const excerptAt = excerptsOf(command);
  const flags: Flag[] = [];
  for (const match of command.matchAll(sqlStatement)) {
    const head = match[1].toUpperCase();
    const statement = match[0];
    let rule: string | null = null;
    let severity: FlagSeverity = "high";
    if (head.startsWith("DROP")) {
      rule = "sql.drop";
      severity = "critical";
    } else if (head.startsWith("TRUNCATE")) {
      rule = "sql.truncate";
    } else if (!/\bWHERE\b/i.test(statement)) {
      rule = head.startsWith("DELETE")
        ? "sql.delete-without-where"
        : "sql.update-without-where";
    }
    if (rule) {
      flags.push({
        rule,
        severity,
        excerpt: excerptAt(match.index, match.index + statement.length),
      });
    }
  }

  return flags;
}

// ---- File writes ---------------------------------------------------------

const writeTools = new Set(["Write", "Edit", "MultiEdit", "NotebookEdit"]);
const pathFields = ["file_path", "filePath", "notebook_path", "path"];

function writtenPaths(event: FlaggableEvent): string[] {
  const writes =
    event.type === "file_change" ||
    (event.toolName !== null &&
      event.toolName !== undefined &&
      writeTools.has(event.toolName));
  const input = event.input;
  if (!writes || !input || typeof input !== "object") return [];
  const fields = input as Record<string, unknown>;

  return pathFields.flatMap((field) =>
    typeof fields[field] === "string" ? [fields[field]] : [],
  );
}

interface PathRule {
  rule: string;
  severity: FlagSeverity;
  matches: (segments: string[]) => boolean;
}

const pathRules: PathRule[] = [
  {
    rule: "write.env-file",
    severity: "high",
    matches: (segments) => /^\.env(?:\..*)?$/.test(segments.at(-1) ?? ""),
  },
  {
    rule: "write.migration",
    severity: "medium",
    matches: (segments) => segments.slice(0, -1).includes("migrations"),
  },
  {
    rule: "write.ci-config",
    severity: "high",
    matches: (segments) => {
      const at = segments.indexOf(".github");

      return (
        (at >= 0 && segments[at + 1] === "workflows") ||
        segments.at(-1) === ".gitlab-ci.yml"
      );
    },
  },
];

function pathFlags(path: string): Flag[] {
  const segments = path.split(/[\\/]+/).filter((s) => s !== "");

  return pathRules
    .filter((rule) => rule.matches(segments))
    .map((rule) => ({
      rule: rule.rule,
      severity: rule.severity,
      excerpt: excerpt(path, 0, path.length),
    }));
}

// ---- A project's own rules -----------------------------------------------

export const customRulePrefix = "custom.";

/** A project's rule as ingest applies it (flag-rules.ts stores them). */
export interface CustomFlagRule {
  name: string;
  kind: "substring" | "path_glob";
  pattern: string;
  severity: FlagSeverity;
}

/** Custom rules made ready once per batch: substrings become
 * case-insensitive expressions. */
export interface PreparedFlagRule extends CustomFlagRule {
  rule: string;
  search: RegExp | null;
}

export function prepareFlagRules(
  rules: readonly CustomFlagRule[],
): PreparedFlagRule[] {
  return rules.map((rule) => ({
    ...rule,
    rule: `${customRulePrefix}${rule.name}`,
    search:
      rule.kind === "substring"
        ? new RegExp(rule.pattern.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"), "i")
        : null,
  }));
}

// A custom rule is reported once per event: at its first match in the
// input or output, or on the first written path its glob matches.
function customFlags(
  event: FlaggableEvent,
  rules: readonly PreparedFlagRule[],
): Flag[] {
  if (rules.length === 0) return [];
  const texts = rules.some((r) => r.search)
    ? stringsIn([event.input, event.output])
    : [];
  const paths = rules.some((r) => r.kind === "path_glob")
    ? writtenPaths(event)
    : [];
  const flags: Flag[] = [];
  for (const rule of rules) {
    if (rule.search) {
      for (const text of texts) {
        const match = rule.search.exec(text);
        if (!match) continue;
        flags.push({
          rule: rule.rule,
          severity: rule.severity,
          excerpt: excerpt(text, match.index, match.index + match[0].length),
        });
        break;
      }
    } else {
      const path = paths.find((p) => pathMatches(rule.pattern, p));
      if (path !== undefined) {
        flags.push({
          rule: rule.rule,
          severity: rule.severity,
          excerpt: excerpt(path, 0, path.length),
        });
      }
    }
  }

  return flags;
}

// Tool arguments often arrive as JSON text (OpenTelemetry's
// gen_ai.tool.call.arguments): the rules read the object inside, so a
// command or a path is found however the client encoded it.
function withStructuredInput(event: FlaggableEvent): FlaggableEvent {
  const input = event.input;
  if (typeof input !== "string" || !/^\s*\{/.test(input)) return event;
  try {
    const parsed: unknown = JSON.parse(input);
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) {
      return { ...event, input: parsed };
    }
  } catch {
    // Not JSON after all: read as the text it is.
  }

  return event;
}

/** The built-in rules with their severities, for filters and docs. */
export const builtInRules: { rule: string; severity: FlagSeverity }[] = [
  ...secretPatterns.map(({ rule }) => ({ rule, severity: secretSeverity })),
  ...commandRules.map(({ rule, severity }) => ({ rule, severity })),
  { rule: "shell.pipe-to-shell", severity: "high" },
  { rule: "sql.drop", severity: "critical" },
  { rule: "sql.truncate", severity: "high" },
  { rule: "sql.delete-without-where", severity: "high" },
  { rule: "sql.update-without-where", severity: "high" },
  ...pathRules.map(({ rule, severity }) => ({ rule, severity })),
];

/** Every red flag of one event, from the built-in rules and the project's
 * own (`custom`, enabled ones only); the same rule is reported once per
 * event and excerpt. */
export function flagEvent(
  reported: FlaggableEvent,
  custom: readonly PreparedFlagRule[] = [],
): Flag[] {
  const event = withStructuredInput(reported);
  const flags = [
    ...secretFlags(stringsIn([event.input, event.output])),
    ...commandsOf(event).flatMap((c) => [...shellFlags(c), ...sqlFlags(c)]),
    ...writtenPaths(event).flatMap(pathFlags),
    ...customFlags(event, custom),
  ];
  const seen = new Set<string>();

  return flags.filter((flag) => {
    const key = `${flag.rule}\u0000${flag.excerpt}`;
    if (seen.has(key)) return false;
    seen.add(key);

    return true;
  });
}
