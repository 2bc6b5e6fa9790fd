// Document status: canonical, stale, duplicate or superseded, each with the
// reason a person reads in the console. Pure: the indexer loads the
// documents of one source, calls classifyDocuments and stores the result.

export const documentStatuses = [
  "canonical",
  "stale",
  "duplicate",
  "superseded",
] as const;
export type DocumentStatus = (typeof documentStatuses)[number];

/** What an operator pinned in the console; it beats every other rule. */
export type StatusOverride = "canonical" | "stale";

export interface ClassifiedInput {
  id: string;
  path: string;
  /** "" when the source is not versioned. */
  version: string;
  title: string;
  frontMatter: Record<string, unknown> | null;
  /** MinHash signature of the text (see textSignature); may be empty. */
  signature: number[];
  /** Last change of the file; the newer of two duplicates is canonical. */
  modifiedAt: Date;
  /** Who made that change (a git commit's author), when known. */
  modifiedBy?: string | null;
  /** "git" | "file" | "api": where modifiedAt came from. */
  modifiedSource?: string | null;
  override: StatusOverride | null;
  overrideReason: string | null;
}

/** The age rule: documents unchanged for more than `staleAfterDays`
 * days before `now` are possibly stale. */
export interface AgeRule {
  staleAfterDays: number | null;
  now: Date;
}

export interface Classification {
  status: DocumentStatus;
  reason: string | null;
  /** The current document this one is a copy of, when there is one. */
  canonicalId: string | null;
  /** Front matter the rules could not act on (a superseded_by naming no
   * other document or forming a cycle, an unknown status); absent when
   * there is none. */
  warnings?: string[];
}

/** Documents at least this similar within one version are duplicates. */
export const duplicateThreshold = 0.9;
/** An older document this similar to a current one, with nothing better
 * to go on, is taken as its older copy. */
const versionMatchThreshold = 0.5;
/** Texts shorter than this many shingles are too short to call
 * duplicates: generated stubs share nearly all of their few words. */
const minShinglesForDuplicate = 40;

const SIGNATURE_SIZE = 128;
const SHINGLE_WORDS = 5;

// ---------------------------------------------------------------- paths

/** What a path names, whatever the release's folder layout: numeric
 * prefixes ("01-app"), extensions and index files are dropped. */
export function normalisePath(filePath: string): string {
  const segments = filePath
    .toLowerCase()
    .replace(/\.(md|mdx|markdown)$/, "")
    .split("/")
    .map((segment) => segment.replace(/^\d+[-_.]/, ""))
    .filter(Boolean);
  if (segments.length > 1 && segments[segments.length - 1] === "index") {
    segments.pop();
  }

  return segments.join("/");
}

const lastSegment = (normalised: string) =>
  normalised.slice(normalised.lastIndexOf("/") + 1);

// ------------------------------------------------------------- versions

/** Orders versions numerically part by part ("16.10.0" after "16.2.0");
 * "" (unversioned) sorts first. */
export function compareVersions(a: string, b: string): number {
  const parts = (v: string) => v.split(/[^0-9a-z]+/i).filter(Boolean);
  const pa = parts(a);
  const pb = parts(b);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const x = pa[i];
    const y = pb[i];
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    const nx = /^\d+$/.test(x) ? Number(x) : NaN;
    const ny = /^\d+$/.test(y) ? Number(y) : NaN;
    if (!Number.isNaN(nx) && !Number.isNaN(ny)) {
      if (nx !== ny) return nx - ny;
    } else if (x !== y) {
      return x < y ? -1 : 1;
    }
  }

  return 0;
}

// ----------------------------------------------------------- similarity

function hashString(text: string): number {
  // FNV-1a, 32 bits.
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }

  return hash >>> 0;
}

function mix(value: number, seed: number): number {
  // A cheap avalanche (murmur3's finaliser) per signature slot.
  let h = (value ^ seed) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);

  return (h ^ (h >>> 16)) >>> 0;
}

const seeds = Array.from({ length: SIGNATURE_SIZE }, (_, i) =>
  hashString(`slot-${i}`),
);

/** MinHash over 5-word shingles of the text (comments, case and
 * punctuation dropped). Two signatures agree in a share of slots that estimates the
 * texts' Jaccard similarity. Empty when the text is too short to judge. */
export function textSignature(text: string): number[] {
  const words = text
    // Comments are boilerplate ("DO NOT EDIT, generated from ..."), not
    // what a document says; left in, every generated stub would match.
    .replace(/\{\/\*[\s\S]*?\*\/\}/g, " ")
    .replace(/<!--[\s\S]*?-->/g, " ")
    .toLowerCase()
    .split(/[^\p{L}\p{N}_]+/u)
    .filter(Boolean);
  const shingles = new Set<number>();
  for (let i = 0; i + SHINGLE_WORDS <= words.length; i++) {
    shingles.add(hashString(words.slice(i, i + SHINGLE_WORDS).join(" ")));
  }
  if (shingles.size < minShinglesForDuplicate) return [];
  const signature = new Array<number>(SIGNATURE_SIZE).fill(0xffffffff);
  for (const shingle of shingles) {
    for (let slot = 0; slot < SIGNATURE_SIZE; slot++) {
      const value = mix(shingle, seeds[slot]);
      if (value < signature[slot]) signature[slot] = value;
    }
  }

  return signature;
}

/** Estimated similarity of two texts, 0..1; 0 when either is too short. */
export function similarity(a: number[], b: number[]): number {
  if (a.length === 0 || a.length !== b.length) return 0;
  let same = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) same++;

  return same / a.length;
}

// ------------------------------------------------------- classification

/** The document a `superseded_by` names; "self" when the name matches
 * only the naming document itself. */
type TargetResolver = (
  doc: ClassifiedInput,
  named: string,
) => ClassifiedInput | "self" | null;

/** Declared `status` values, normalised (lower case, words joined by
 * "-"), that mean the document is not current: common spellings of stale,
 * and stages before publication, whose text may be wrong or unfinished. */
const staleStatuses = ["deprecated", "obsolete", "archived"];
const draftStatuses = [
  "draft",
  "wip",
  "work-in-progress",
  "in-progress",
  "proposed",
  "proposal",
  "unpublished",
  "todo",
];
/** Declared values that say the document is current: nothing to act on. */
const currentStatuses = [
  "current",
  "published",
  "active",
  "stable",
  "final",
  "accepted",
  "approved",
  "live",
];

const knownStatuses = [
  ...documentStatuses,
  ...staleStatuses,
  ...draftStatuses,
  ...currentStatuses,
];

/** What the front matter says about a document's status, and what in it
 * the rules could not act on (a warning for the index summary). */
interface Declaration {
  classification: Classification | null;
  warnings: string[];
  /** Why a declared `status` was not used, as the status reason says it;
   * absent when there is none or it was used. */
  ignored?: string;
}

/** What to call a front-matter value that is not text, for a warning. */
function describeValue(value: unknown): string {
  if (Array.isArray(value)) return "a list";
  if (value instanceof Date) return "a date";
  if (typeof value === "object") return "an object";
  if (typeof value === "number") return "a number";
  if (typeof value === "boolean") return "true/false";

  return `a ${typeof value}`;
}

/** A front-matter value as a warning shows it: long enough to
 * recognise; a stray paragraph is not repeated whole. */
function showValue(value: unknown): string {
  const text =
    typeof value === "object" ? JSON.stringify(value) : String(value);

  // Cut between characters, not UTF-16 units: half an emoji is no valid
  // Unicode, and the index run's audit entry (jsonb) refuses it.
  return [...text.trim()].slice(0, 80).join("");
}

/** What a document's `superseded_by` names: its successor, or none (with
 * a warning when the front matter says something the rules cannot use). */
interface Successor {
  /** The front matter has a `superseded_by` at all. */
  declared: boolean;
  target: ClassifiedInput | null;
  warnings: string[];
  /** Why a declared successor was not used, as the status reason says it;
   * absent when there is none or it was used. */
  ignored?: string;
}

/** The part of a status reason that says a declared successor was not
 * used and why, so the console shows it beside the status it explains. */
function ignoredSuccessor(named: string, why: string): string {
  return `declared successor ignored (superseded_by: ${named}): ${why}`;
}

function declaredSuccessor(
  doc: ClassifiedInput,
  resolve: TargetResolver,
): Successor {
  const supersededBy = doc.frontMatter?.superseded_by;
  if (
    supersededBy === undefined ||
    supersededBy === null ||
    (typeof supersededBy === "string" && !supersededBy.trim())
  ) {
    return { declared: false, target: null, warnings: [] };
  }
  if (typeof supersededBy !== "string") {
    return {
      declared: true,
      target: null,
      warnings: [
        `superseded_by: ${showValue(supersededBy)} in front matter is ` +
          `${describeValue(supersededBy)}; expected one document's path or ` +
          `title (superseded_by: guides/deploy.md); ignored`,
      ],
      ignored: ignoredSuccessor(
        showValue(supersededBy),
        `it is ${describeValue(supersededBy)}, not one document's path or ` +
          `title`,
      ),
    };
  }
  const named = supersededBy.trim();
  const target = resolve(doc, named);
  if (target === "self") {
    return {
      declared: true,
      target: null,
      warnings: [
        `superseded_by: ${named} in front matter names this document ` +
          `itself; not marked superseded`,
      ],
      ignored: ignoredSuccessor(named, "it names this document itself"),
    };
  }
  if (!target) {
    // Pointing at nothing, the document would stop answering with no
    // successor to answer instead; the other rules decide its status.
    return {
      declared: true,
      target: null,
      warnings: [
        `superseded_by: ${named} in front matter names no document of ` +
          `this source; not marked superseded`,
      ],
      ignored: ignoredSuccessor(named, "it names no document of this source"),
    };
  }

  return { declared: true, target, warnings: [] };
}

/** The status front matter declares apart from `superseded_by`, for a
 * document that has no usable successor (`successor` says whether it
 * named one at all). */
function declaredStatus(
  doc: ClassifiedInput,
  successor: Successor,
): Declaration {
  const warnings: string[] = [];
  const declare = (classification: Classification | null) => ({
    classification,
    warnings,
  });
  const frontMatter = doc.frontMatter;
  if (!frontMatter) return declare(null);
  if (frontMatter.deprecated === true || frontMatter.deprecated === "true") {
    return declare({
      status: "stale",
      reason: "deprecated: true in front matter",
      canonicalId: null,
    });
  }
  const declared = frontMatter.status;
  if (declared === undefined || declared === null) return declare(null);
  const shown = showValue(declared);
  const value = shown.toLowerCase().replace(/[\s_]+/g, "-");
  // Superseded or duplicate with no successor to answer instead: not
  // current, but left to answer when the asker includes stale documents.
  if (value === "superseded" || value === "duplicate") {
    if (!successor.declared) {
      warnings.push(
        `status: ${shown} in front matter names no successor; add ` +
          `superseded_by: <path or title of the current document> so that ` +
          `one answers instead; marked stale`,
      );
    }

    return declare({
      status: "stale",
      reason:
        `status: ${shown} in front matter, declared ${value} without a ` +
        `successor (superseded_by)`,
      canonicalId: null,
    });
  }
  if ((documentStatuses as readonly string[]).includes(value)) {
    return declare({
      status: value as DocumentStatus,
      reason: `status: ${shown} in front matter`,
      canonicalId: null,
    });
  }
  if (staleStatuses.includes(value)) {
    return declare({
      status: "stale",
      reason: `status: ${shown} in front matter`,
      canonicalId: null,
    });
  }
  // A draft is not what the project says yet: it answers only when the
  // asker includes stale documents.
  if (draftStatuses.includes(value)) {
    return declare({
      status: "stale",
      reason: `front matter declares a draft (status: ${shown}), not published`,
      canonicalId: null,
    });
  }
  if (!currentStatuses.includes(value)) {
    const known = `known: ${knownStatuses.join(", ")}`;
    const kind =
      typeof declared === "string" ? "" : `${describeValue(declared)}, `;
    warnings.push(
      `status: ${shown || '""'} in front matter is not a known status ` +
        `(${known}); ignored`,
    );

    return {
      classification: null,
      warnings,
      ignored:
        `declared status ignored (status: ${shown || '""'}): it is ` +
        `${kind}not a known status (${known})`,
    };
  }

  return declare(null);
}

/** Finds the current document an older one is a copy of: the same
 * normalised path; else the same name or title, the most similar text
 * deciding between several; else a clearly similar text. */
function matchCurrent(
  older: ClassifiedInput,
  current: ClassifiedInput[],
  byPath: Map<string, ClassifiedInput>,
): ClassifiedInput | null {
  const normalised = normalisePath(older.path);
  const exact = byPath.get(normalised);
  if (exact) return exact;
  const name = lastSegment(normalised);
  const title = older.title.trim().toLowerCase();
  const named = current.filter(
    (doc) =>
      lastSegment(normalisePath(doc.path)) === name ||
      (title !== "" && doc.title.trim().toLowerCase() === title),
  );
  const mostSimilar = (docs: ClassifiedInput[]) => {
    let best: ClassifiedInput | null = null;
    let bestScore = -1;
    for (const doc of docs) {
      const score = similarity(older.signature, doc.signature);
      if (score > bestScore) {
        best = doc;
        bestScore = score;
      }
    }

    return { best, bestScore };
  };
  if (named.length === 1) return named[0];
  if (named.length > 1) return mostSimilar(named).best;
  if (older.signature.length === 0) return null;
  const { best, bestScore } = mostSimilar(current);

  return bestScore >= versionMatchThreshold ? best : null;
}

/** The document a `superseded_by` names: a path relative to the source's
 * root or to the naming document's folder (extension, numeric prefixes
 * and index optional), else a title. The newest version's copy wins. */
function supersedingTarget(
  docs: ClassifiedInput[],
  newest: string | null,
): TargetResolver {
  const byPath = new Map<string, ClassifiedInput[]>();
  const byTitle = new Map<string, ClassifiedInput[]>();
  const add = (
    map: Map<string, ClassifiedInput[]>,
    key: string,
    doc: ClassifiedInput,
  ) => {
    map.set(key, [...(map.get(key) ?? []), doc]);
  };
  for (const doc of docs) {
    add(byPath, normalisePath(doc.path), doc);
    add(byTitle, doc.title.trim().toLowerCase(), doc);
  }
  const pick = (found: ClassifiedInput[] | undefined, self: string) => {
    const others = (found ?? []).filter((d) => d.id !== self);

    return (
      others.find((d) => d.version === newest) ??
      others.sort((a, b) => compareVersions(b.version, a.version))[0] ??
      null
    );
  };

  return (doc, named) => {
    const target = named.replace(/^(\.\/|\/)+/, "");
    const folder = doc.path.includes("/")
      ? doc.path.slice(0, doc.path.lastIndexOf("/"))
      : "";
    const relative = folder
      ? `${folder}/${target}`
          .split("/")
          .reduce<string[]>(
            (parts, part) =>
              part === ".."
                ? parts.slice(0, -1)
                : part === "."
                  ? parts
                  : [...parts, part],
            [],
          )
          .join("/")
      : target;

    const found = [
      byPath.get(normalisePath(target)),
      byPath.get(normalisePath(relative)),
      byTitle.get(named.toLowerCase()),
    ];
    for (const docs of found) {
      const other = pick(docs, doc.id);
      if (other) return other;
    }

    return found.some((docs) => docs?.some((d) => d.id === doc.id))
      ? "self"
      : null;
  };
}

/** The rings `superseded_by` forms (a → b → a), each in its order from
 * the document with the first path. */
function supersededByCycles(
  docs: ClassifiedInput[],
  successors: Map<string, Successor>,
): ClassifiedInput[][] {
  const next = (doc: ClassifiedInput) => successors.get(doc.id)?.target ?? null;
  const byPathThenVersion = (a: ClassifiedInput, b: ClassifiedInput) =>
    a.path < b.path
      ? -1
      : a.path > b.path
        ? 1
        : compareVersions(a.version, b.version);
  const done = new Set<string>();
  const cycles: ClassifiedInput[][] = [];
  for (const start of [...docs].sort(byPathThenVersion)) {
    const walk: ClassifiedInput[] = [];
    const onWalk = new Map<string, number>();
    let doc: ClassifiedInput | null = start;
    while (doc && !done.has(doc.id) && !onWalk.has(doc.id)) {
      onWalk.set(doc.id, walk.length);
      walk.push(doc);
      doc = next(doc);
    }
    if (doc && onWalk.has(doc.id)) {
      const ring = walk.slice(onWalk.get(doc.id));
      const first = ring.indexOf([...ring].sort(byPathThenVersion)[0]);
      cycles.push([...ring.slice(first), ...ring.slice(0, first)]);
    }
    for (const seen of walk) done.add(seen.id);
  }

  return cycles;
}

/** The front matter's `version` (version: 2, version: "2.1"), if any. */
export function declaredVersion(
  frontMatter: Record<string, unknown> | null,
): string | null {
  const value = frontMatter?.version;
  if (typeof value === "number" && Number.isFinite(value)) return String(value);
  if (typeof value === "string" && value.trim()) return value.trim();

  return null;
}

/** Documents of one release that declare versions of the same thing
 * (same title): the highest declared version is current, the others are
 * its stale copies. */
function declaredVersionRule(
  docs: ClassifiedInput[],
): Map<string, Classification> {
  const groups = new Map<string, ClassifiedInput[]>();
  for (const doc of docs) {
    if (declaredVersion(doc.frontMatter) === null) continue;
    const key = doc.title.trim().toLowerCase();
    groups.set(key, [...(groups.get(key) ?? []), doc]);
  }
  const result = new Map<string, Classification>();
  for (const group of groups.values()) {
    if (group.length < 2) continue;
    const version = (d: ClassifiedInput) =>
      declaredVersion(d.frontMatter) ?? "";
    const ordered = [...group].sort(
      (a, b) =>
        compareVersions(version(b), version(a)) ||
        b.modifiedAt.getTime() - a.modifiedAt.getTime(),
    );
    const [newest, ...older] = ordered;
    for (const doc of older) {
      if (compareVersions(version(doc), version(newest)) === 0) continue;
      result.set(doc.id, {
        status: "stale",
        reason:
          `declares version ${version(doc)} in front matter; ` +
          `${newest.path} declares ${version(newest)}`,
        canonicalId: newest.id,
      });
    }
  }

  return result;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/** The age rule, a weak signal: only for documents no other rule placed. */
function ageRule(
  doc: ClassifiedInput,
  age: AgeRule | undefined,
): Classification | null {
  if (!age?.staleAfterDays) return null;
  const days = Math.floor(
    (age.now.getTime() - doc.modifiedAt.getTime()) / DAY_MS,
  );
  if (days <= age.staleAfterDays) return null;
  const date = doc.modifiedAt.toISOString().slice(0, 10);
  const who =
    doc.modifiedSource === "git"
      ? `last commit by ${doc.modifiedBy || "an unknown author"}`
      : doc.modifiedSource === "api"
        ? `written${doc.modifiedBy ? ` by ${doc.modifiedBy}` : ""}`
        : "file time";

  return {
    status: "stale",
    reason:
      `unchanged since ${date} (${who}), over the ${age.staleAfterDays}-day ` +
      `age limit; a weak signal, no other rule applied`,
    canonicalId: null,
  };
}

/** The status of every document of one source. Rules, strongest first:
 * an operator's override; front matter (a superseded_by that names
 * another document, outside a cycle; deprecated; status, where superseded
 * or duplicate without a successor is stale; a declared draft); versions
 * (only the newest release is current, older copies are stale; within a
 * release, a lower front-matter `version` of the same
 * title is stale); near-duplicates within the current version (the newer
 * is canonical); last, age (unchanged longer than the project's limit). */
export function classifyDocuments(
  docs: ClassifiedInput[],
  age?: AgeRule,
): Map<string, Classification> {
  const result = new Map<string, Classification>();
  const newest = docs
    .map((d) => d.version)
    .reduce<string | null>(
      (a, v) => (a === null || compareVersions(v, a) > 0 ? v : a),
      null,
    );
  const current = docs.filter((d) => d.version === newest);
  const byPath = new Map(current.map((d) => [normalisePath(d.path), d]));
  const resolve = supersedingTarget(docs, newest);
  const successors = new Map(
    docs.map((doc) => [doc.id, declaredSuccessor(doc, resolve)]),
  );
  // Documents that supersede each other in a ring would all stop
  // answering; their superseded_by is ignored, with one warning a ring.
  const cycles = supersededByCycles(docs, successors);
  const inCycle = new Set(cycles.flat().map((d) => d.id));
  const cycleWarnings = new Map<string, string>();
  const ignoredInCycle = new Map<string, string>();
  for (const cycle of cycles) {
    const versions = new Set(cycle.map((d) => d.version));
    const name = (d: ClassifiedInput) =>
      versions.size > 1 ? `${d.path} (${d.version || "unversioned"})` : d.path;
    const ring = [...cycle, cycle[0]].map(name).join(" → ");
    // An index run reports the warnings of the version it indexed, so a
    // ring across versions is told once for each of them: on its first
    // document of that version.
    for (const version of versions) {
      const first = cycle.find((d) => d.version === version);
      if (!first) continue;
      cycleWarnings.set(
        first.id,
        `superseded_by in front matter forms a cycle: ${ring}; ignored for ` +
          `these documents`,
      );
    }
    for (const doc of cycle) {
      const named = String(doc.frontMatter?.superseded_by ?? "").trim();
      ignoredInCycle.set(
        doc.id,
        ignoredSuccessor(named, `it forms a cycle, ${ring}`),
      );
    }
  }
  const declaration = (doc: ClassifiedInput): Declaration => {
    const successor = successors.get(doc.id)!;
    const warnings = [...successor.warnings];
    const cycleWarning = cycleWarnings.get(doc.id);
    if (cycleWarning) warnings.push(cycleWarning);
    if (successor.target && !inCycle.has(doc.id)) {
      return {
        classification: {
          status: "superseded",
          reason: `superseded by ${successor.target.path} (front matter)`,
          canonicalId: successor.target.id,
        },
        warnings,
      };
    }
    const other = declaredStatus(doc, successor);

    return {
      classification: other.classification,
      warnings: [...warnings, ...other.warnings],
      ignored: other.ignored,
    };
  };
  const declarations = new Map(docs.map((doc) => [doc.id, declaration(doc)]));
  const declared = (doc: ClassifiedInput) =>
    declarations.get(doc.id)?.classification ?? null;
  const undecided = current.filter((d) => !d.override && !declared(d));
  const declaredVersions = declaredVersionRule(undecided);

  const versionRule = (doc: ClassifiedInput): Classification | null => {
    if (doc.version === newest) return null;
    const label = doc.version || "(unversioned)";
    const match = matchCurrent(doc, current, byPath);

    return match
      ? {
          status: "stale",
          reason: `older version ${label} of ${match.path}`,
          canonicalId: match.id,
        }
      : {
          status: "stale",
          reason: `only in older version ${label}`,
          canonicalId: null,
        };
  };

  // Near-duplicates among current documents that no stronger rule placed.
  const duplicateOf = new Map<string, Classification>();
  const candidates = undecided
    .filter((d) => !declaredVersions.has(d.id))
    .filter((d) => d.signature.length > 0)
    // Newest first (then path order), so each pair's newer one is seen
    // first and stays canonical.
    .sort(
      (a, b) =>
        b.modifiedAt.getTime() - a.modifiedAt.getTime() ||
        (a.path < b.path ? -1 : a.path > b.path ? 1 : 0),
    );
  const kept: ClassifiedInput[] = [];
  for (const doc of candidates) {
    let best: { doc: ClassifiedInput; score: number } | null = null;
    for (const other of kept) {
      const score = similarity(doc.signature, other.signature);
      if (score >= duplicateThreshold && (!best || score > best.score)) {
        best = { doc: other, score };
      }
    }
    if (best) {
      duplicateOf.set(doc.id, {
        status: "duplicate",
        reason: `${Math.round(best.score * 100)}% similar to ${best.doc.path}`,
        canonicalId: best.doc.id,
      });
    } else {
      kept.push(doc);
    }
  }

  for (const doc of docs) {
    const overridden: Classification | null = doc.override
      ? {
          status: doc.override,
          reason:
            doc.overrideReason ??
            (doc.override === "canonical"
              ? "pinned canonical by an operator"
              : "marked stale by an operator"),
          canonicalId: null,
        }
      : null;
    const classification = overridden ??
      declared(doc) ??
      versionRule(doc) ??
      declaredVersions.get(doc.id) ??
      duplicateOf.get(doc.id) ??
      ageRule(doc, age) ?? {
        status: "canonical",
        reason: null,
        canonicalId: null,
      };
    // What the front matter declared and the rules did not use, each
    // with why, so the console shows it beside the status it explains.
    const ignored = [
      ignoredInCycle.get(doc.id) ?? successors.get(doc.id)?.ignored,
      declarations.get(doc.id)?.ignored,
    ]
      .filter(Boolean)
      .join("; ");
    const explained = ignored
      ? {
          ...classification,
          reason: classification.reason
            ? `${classification.reason}; ${ignored}`
            : ignored,
        }
      : classification;
    const warnings = declarations.get(doc.id)?.warnings ?? [];
    result.set(
      doc.id,
      warnings.length > 0 ? { ...explained, warnings } : explained,
    );
  }

  return result;
}
