// How guardrail rules match a tool call: globs on tool names and paths,
// word patterns on commands. Pure functions, so the policy tests can table
// them and the PreToolUse path stays cheap.

const cache = new Map<string, RegExp>();

function cached(key: string, build: () => RegExp): RegExp {
  let found = cache.get(key);
  if (!found) {
    found = build();
    // Rules change rarely; the bound only stops a flood of distinct
    // patterns from growing the map forever.
    if (cache.size > 2000) cache.clear();
    cache.set(key, found);
  }

  return found;
}

function escape(text: string): string {
  return text.replace(/[.+?^${}()|[\]\\]/g, "\\$&");
}

/** Tool names: `*` matches any characters, the rest is literal. */
export function toolMatches(glob: string, toolName: string): boolean {
  const pattern = cached(`tool:${glob}`, () => {
    const body = glob.split("*").map(escape).join(".*");

    return new RegExp(`^${body}$`);
  });

  return pattern.test(toolName);
}

function pathGlobBody(glob: string): string {
  let out = "";
  for (let i = 0; i < glob.length; i++) {
    const char = glob[i];
    if (char === "*" && glob[i + 1] === "*") {
      // `**/` is zero or more folders; a trailing `**` is anything below.
      if (glob[i + 2] === "/") {
        out += "(?:.*/)?";
        i += 2;
      } else {
        out += ".*";
        i += 1;
      }
    } else if (char === "*") {
      out += "[^/]*";
    } else if (char === "?") {
      out += "[^/]";
    } else {
      out += escape(char);
    }
  }

  return out;
}

/** Paths: `**` crosses folders, `*` and `?` stay inside one. A glob that
 * does not start with `/` matches at any depth, so `migrations/**` guards
 * every migrations folder whatever the agent's working directory is. */
export function pathMatches(glob: string, path: string): boolean {
  const pattern = cached(`path:${glob}`, () => {
    const anchored = glob.startsWith("/");
    const body = pathGlobBody(anchored ? glob : glob.replace(/^\.\//, ""));

    return new RegExp(anchored ? `^${body}$` : `(?:^|/)${body}$`);
  });
  const normalized = path.replace(/\\/g, "/").replace(/^\.\//, "");

  return pattern.test(normalized);
}

/** Commands: the pattern's words must appear in this order, as whole words
 * and case-insensitively, within one command of a shell line (commands are
 * split by `;`, `&&`, `||`, `|` and newlines); other words may sit between
 * them. `*` inside a word matches any characters. So `git push --force`
 * catches `git push origin main --force` but not `--force-with-lease`. */
export function commandMatches(pattern: string, command: string): boolean {
  const words = pattern.trim().split(/\s+/).filter(Boolean);
  if (words.length === 0) return false;
  const regex = cached(`command:${pattern}`, () => {
    const body = words
      .map((word) => word.split("*").map(escape).join("\\S*"))
      .join("\\s(?:[^;&|\\n]*\\s)?");

    return new RegExp(`(?<![\\w-])${body}(?![\\w-])`, "i");
  });

  return regex.test(command);
}

const pathKeys = new Set([
  "file_path",
  "filepath",
  "path",
  "notebook_path",
  "filename",
  "directory",
  "dir",
]);

const MAX_DEPTH = 4;
const MAX_STRINGS = 200;

function walk(
  value: unknown,
  depth: number,
  visit: (key: string | null, text: string) => void,
  key: string | null = null,
) {
  if (typeof value === "string") {
    visit(key, value);
    return;
  }
  if (!value || typeof value !== "object" || depth > MAX_DEPTH) return;
  if (Array.isArray(value)) {
    for (const item of value.slice(0, MAX_STRINGS)) {
      walk(item, depth + 1, visit, key);
    }
    return;
  }
  for (const [name, item] of Object.entries(value).slice(0, MAX_STRINGS)) {
    walk(item, depth + 1, visit, name);
  }
}

/** The text command rules look at: the `command` argument when the tool has
 * one (Bash), otherwise every string argument (SQL tools, MCP tools). */
export function commandText(toolInput: unknown): string {
  if (toolInput && typeof toolInput === "object" && !Array.isArray(toolInput)) {
    const command = (toolInput as Record<string, unknown>).command;
    if (typeof command === "string") return command;
  }
  const parts: string[] = [];
  walk(toolInput, 0, (_key, text) => parts.push(text));

  return parts.join("\n");
}

/** The file paths a tool call names (file_path, path, notebook_path...). */
export function pathArguments(toolInput: unknown): string[] {
  const paths: string[] = [];
  walk(toolInput, 0, (key, text) => {
    if (key && pathKeys.has(key.toLowerCase()) && text !== "") {
      paths.push(text);
    }
  });

  return paths;
}
