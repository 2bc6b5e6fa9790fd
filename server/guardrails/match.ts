// How guardrail rules match a tool call: globs on tool names and paths,
// word patterns on commands. Pure functions, so the policy tests can table
// them and the PreToolUse path stays cheap.

const cache = new Map<string, unknown>();

function cached<T>(key: string, build: () => T): T {
  let found = cache.get(key) as T | undefined;
  if (found === undefined) {
    found = build();
    // Rules change rarely; the bound only stops a flood of distinct
    // patterns from growing the map forever.
    if (cache.size > 2000) cache.clear();
    cache.set(key, found);
  }

  return found;
}

// Globs are matched by walking the text once while keeping the set of
// places the glob could have reached, instead of a backtracking regular
// expression: a pattern like `*a*a*a*b` then costs the text's length times
// the glob's, not an exponent of it. The steps:
//   char  one given character
//   one   one character other than `/` (`?`)
//   star  any run without `/` (`*`)
//   any   any run without a line break (`**`)
//   dirs  nothing, or any run ending in `/` (`**/`)
type GlobStep =
  { kind: "char"; code: number } | { kind: "one" | "star" | "any" | "dirs" };

const slash = 47;

function isLineBreak(code: number): boolean {
  return code === 10 || code === 13 || code === 0x2028 || code === 0x2029;
}

// Marks step `at` as reached, with the steps reachable from it without
// reading a character (past runs that may be empty, past an empty `**/`).
function reach(reached: Uint8Array, steps: GlobStep[], at: number) {
  let index = at;
  while (index < steps.length) {
    const kind = steps[index].kind;
    const seen = reached[index] === 1;
    reached[index] = 1;
    if (kind === "char" || kind === "one") return;
    // A run already reached has already reached what follows it; `**/`
    // may have been reached from inside, which does not skip it.
    if (seen && kind !== "dirs") return;
    index += 1;
  }
  reached[steps.length] = 1;
}

/** Whether `text` matches `steps` as a whole; `restartAfterSlash` also
 * lets a match begin after any `/` (an unanchored path glob). */
function runGlob(
  steps: GlobStep[],
  text: string,
  restartAfterSlash: boolean,
): boolean {
  let current = new Uint8Array(steps.length + 1);
  let next = new Uint8Array(steps.length + 1);
  reach(current, steps, 0);
  for (let position = 0; position < text.length; position++) {
    const code = text.charCodeAt(position);
    next.fill(0);
    let alive = false;
    for (let index = 0; index < steps.length; index++) {
      if (current[index] === 0) continue;
      alive = true;
      const step = steps[index];
      switch (step.kind) {
        case "char":
          if (code === step.code) reach(next, steps, index + 1);
          break;
        case "one":
          if (code !== slash) reach(next, steps, index + 1);
          break;
        case "star":
          if (code !== slash) reach(next, steps, index);
          break;
        case "any":
          if (!isLineBreak(code)) reach(next, steps, index);
          break;
        case "dirs":
          if (code === slash) reach(next, steps, index + 1);
          if (!isLineBreak(code)) next[index] = 1;
          break;
      }
    }
    if (restartAfterSlash && code === slash) reach(next, steps, 0);
    else if (!alive && !restartAfterSlash) return false;
    [current, next] = [next, current];
  }

  return current[steps.length] === 1;
}

/** Tool names: `*` matches any characters, the rest is literal. */
export function toolMatches(glob: string, toolName: string): boolean {
  const steps = cached(`tool:${glob}`, () => {
    const out: GlobStep[] = [];
    for (let i = 0; i < glob.length; i++) {
      out.push(
        glob[i] === "*"
          ? { kind: "any" }
          : { kind: "char", code: glob.charCodeAt(i) },
      );
    }

    return out;
  });

  return runGlob(steps, toolName, false);
}

function pathGlobSteps(glob: string): GlobStep[] {
  const steps: GlobStep[] = [];
  for (let i = 0; i < glob.length; i++) {
    const char = glob[i];
    if (char === "*" && glob[i + 1] === "*") {
      // `**/` is zero or more folders; a trailing `**` is anything below.
      if (glob[i + 2] === "/") {
        steps.push({ kind: "dirs" });
        i += 2;
      } else {
        steps.push({ kind: "any" });
        i += 1;
      }
    } else if (char === "*") {
      steps.push({ kind: "star" });
    } else if (char === "?") {
      steps.push({ kind: "one" });
    } else {
      steps.push({ kind: "char", code: glob.charCodeAt(i) });
    }
  }

  return steps;
}

/** Paths: `**` crosses folders, `*` and `?` stay inside one. A glob that
 * does not start with `/` matches at any depth, so `migrations/**` guards
 * every migrations folder whatever the agent's working directory is. */
export function pathMatches(glob: string, path: string): boolean {
  const anchored = glob.startsWith("/");
  const steps = cached(`path:${glob}`, () =>
    pathGlobSteps(anchored ? glob : glob.replace(/^\.\//, "")),
  );
  const normalized = path.replace(/\\/g, "/").replace(/^\.\//, "");

  return runGlob(steps, normalized, !anchored);
}

/** Commands: the pattern's words must appear in this order, as whole words
 * and case-insensitively, within one command of a shell line (commands are
 * split by `;`, `&&`, `||`, `|` and newlines); other words may sit between
 * them. `*` inside a word matches any characters. So `git push --force`
 * catches `git push origin main --force` but not `--force-with-lease`. */
export function commandMatches(pattern: string, command: string): boolean {
  const words = pattern.trim().split(/\s+/).filter(Boolean);
  if (words.length === 0) return false;
  const steps = cached(`command:${pattern}`, () => commandSteps(words));

  return runCommand(steps, command);
}

// Command patterns are walked like globs (one pass, the set of places
// reached), since with several words a backtracking expression tries every
// way to share the words between the gaps. The steps:
//   char   one character, compared ignoring case
//   word   any run without whitespace (`*` inside a word)
//   space  one whitespace character, the start of a gap
//   gap    nothing more, or other words up to a whitespace character,
//          never crossing `;`, `&`, `|` or a newline
//   middle inside such a gap
type CommandStep =
  | { kind: "char"; code: number }
  | { kind: "word" | "space" | "gap" | "middle" };

function commandSteps(words: string[]): CommandStep[] {
  const steps: CommandStep[] = [];
  words.forEach((word, at) => {
    if (at > 0) {
      steps.push({ kind: "space" }, { kind: "gap" }, { kind: "middle" });
    }
    for (let i = 0; i < word.length; i++) {
      steps.push(
        word[i] === "*"
          ? { kind: "word" }
          : { kind: "char", code: foldCase(word.charCodeAt(i)) },
      );
    }
  });

  return steps;
}

// Case folding as regular expressions without the `u` flag do it: to upper
// case, unless that takes more than one character or leaves ASCII for it.
function foldCase(code: number): number {
  const upper = String.fromCharCode(code).toUpperCase();
  if (upper.length !== 1) return code;
  const folded = upper.charCodeAt(0);

  return code >= 128 && folded < 128 ? code : folded;
}

// `\s` of regular expressions.
function isSpace(code: number): boolean {
  return (
    (code >= 9 && code <= 13) ||
    code === 32 ||
    code === 0xa0 ||
    code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200a) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x202f ||
    code === 0x205f ||
    code === 0x3000 ||
    code === 0xfeff
  );
}

// Letters, digits, `_` and `-`: what may not touch a matched word.
function isWordPart(code: number): boolean {
  return (
    (code >= 48 && code <= 57) ||
    (code >= 65 && code <= 90) ||
    (code >= 97 && code <= 122) ||
    code === 95 ||
    code === 45
  );
}

function breaksGap(code: number): boolean {
  return code === 59 || code === 38 || code === 124 || code === 10;
}

function reachCommand(reached: Uint8Array, steps: CommandStep[], at: number) {
  const pending = [at];
  while (pending.length > 0) {
    const index = pending.pop() as number;
    if (reached[index] === 1) continue;
    reached[index] = 1;
    if (index === steps.length) continue;
    const kind = steps[index].kind;
    if (kind === "word") pending.push(index + 1);
    // A gap may end here (the next word) or run on over other words.
    if (kind === "gap") pending.push(index + 2, index + 1);
  }
}

function runCommand(steps: CommandStep[], command: string): boolean {
  const done = steps.length;
  let current = new Uint8Array(done + 1);
  let next = new Uint8Array(done + 1);
  for (let position = 0; ; position++) {
    const before = position > 0 ? command.charCodeAt(position - 1) : -1;
    if (!isWordPart(before)) reachCommand(current, steps, 0);
    const atEnd = position === command.length;
    const code = atEnd ? -1 : command.charCodeAt(position);
    if (current[done] === 1 && !isWordPart(code)) return true;
    if (atEnd) return false;
    const folded = foldCase(code);
    next.fill(0);
    for (let index = 0; index < done; index++) {
      if (current[index] === 0) continue;
      const step = steps[index];
      switch (step.kind) {
        case "char":
          if (folded === step.code) reachCommand(next, steps, index + 1);
          break;
        case "word":
          if (!isSpace(code)) reachCommand(next, steps, index);
          break;
        case "space":
          if (isSpace(code)) reachCommand(next, steps, index + 1);
          break;
        case "middle":
          if (isSpace(code)) reachCommand(next, steps, index + 1);
          if (!breaksGap(code)) reachCommand(next, steps, index);
          break;
        case "gap":
          break;
      }
    }
    [current, next] = [next, current];
  }
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
