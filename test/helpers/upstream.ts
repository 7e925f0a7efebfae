/**
 * Readers of the upstream fixtures (`test/fixtures/upstream/<project>-<version>/`): the folder access lives in
 * tools/upstream.ts (npm run images reads the charts' defaults too); the flag-list parsers the tests use are here.
 */
export { UPSTREAM_DIR, upstreamFile, upstreamFolder, upstreamSource } from "../../tools/upstream";
export type { UpstreamSource } from "../../tools/upstream";

/**
 * The long flags a kingpin `--help` text lists. Flag lines start at the left margin (`  -h, --help` or
 * `      --name=...`); description lines are indented further and may mention other flags, so they are skipped.
 * A boolean flag printed as `--[no-]name` accepts both `--name` and `--no-name`.
 */
export function kingpinFlags(help: string): Set<string> {
    const flags = new Set<string>();
    for (const line of help.split("\n")) {
        const m = /^ {2}(?:-[A-Za-z0-9], | {4})--(\[no-\])?([A-Za-z0-9][A-Za-z0-9._-]*)/.exec(line);
        if (!m) continue;
        flags.add(m[2]);
        if (m[1]) flags.add(`no-${m[2]}`);
    }
    return flags;
}

/** The flag name of an argument: `--a.b=c` → `a.b`; `undefined` for a positional argument. */
export function flagName(arg: string): string | undefined {
    const m = /^--([^=]+)/.exec(arg);
    return m ? m[1] : undefined;
}

/** How a flag takes its value: not at all, always (`--x=v` or `--x v`), or only inline (`--x=v`; pflag Bools, getopt's optional_argument). */
export type FlagValue = "none" | "required" | "optional";

/** One flag a binary accepts, as a fixture describes it. */
export interface FlagSpec {
    readonly long?: string;
    readonly short?: string;
    readonly value: FlagValue;
    /** A kingpin Bool: `--no-<name>` is accepted too. */
    readonly negatable: boolean;
    /** Prometheus: a flag only valid in server mode (`Use with server mode only.`) or only in agent mode. */
    readonly mode?: "server" | "agent";
    /** Where upstream defines it. */
    readonly source: string;
}

export interface FlagList {
    readonly long: ReadonlyMap<string, FlagSpec>;
    readonly short: ReadonlyMap<string, FlagSpec>;
}

function flagList(specs: FlagSpec[], where: string): FlagList {
    const long = new Map<string, FlagSpec>();
    const short = new Map<string, FlagSpec>();
    for (const s of specs) {
        for (const [map, key] of [[long, s.long], [short, s.short]] as const) {
            if (key === undefined) continue;
            if (map.has(key)) throw new Error(`${where}: ${key} is listed twice`);
            map.set(key, s);
        }
    }
    return { long, short };
}

/**
 * A derived `flags.txt`: `#` comment lines, then one flag per line: its spellings (`-m, --memory-limit`, `--[no-]x`
 * for a kingpin Bool), ` <value>` when it takes a value, ` [<value>]` when only `--x=value` gives it one, a tab, and
 * the upstream file:line that defines it. A malformed line throws, so a bad fixture cannot check nothing.
 */
export function parseFlagsTxt(text: string, where = "flags.txt"): FlagList {
    const specs: FlagSpec[] = [];
    text.split("\n").forEach((line, i) => {
        if (line.trim() === "" || line.startsWith("#")) return;
        const m = /^((?:-[A-Za-z0-9]|--(?:\[no-\])?[A-Za-z0-9][A-Za-z0-9._-]*)(?:, (?:-[A-Za-z0-9]|--(?:\[no-\])?[A-Za-z0-9][A-Za-z0-9._-]*))*)( <value>| \[<value>\])?\t(\S.*)$/.exec(line);
        if (!m) throw new Error(`${where}:${i + 1}: not "<spellings>[ <value>|[<value>]]<TAB><source>": ${JSON.stringify(line)}`);
        let long: string | undefined;
        let short: string | undefined;
        let negatable = false;
        for (const s of m[1].split(", ")) {
            if (s.startsWith("--[no-]")) [long, negatable] = [s.slice(7), true];
            else if (s.startsWith("--")) long = s.slice(2);
            else short = s.slice(1);
        }
        const value: FlagValue = m[2] === " <value>" ? "required" : m[2] === " [<value>]" ? "optional" : "none";
        if (negatable && value !== "none") throw new Error(`${where}:${i + 1}: a --[no-] flag takes no value`);
        specs.push({ long, short, value, negatable, source: m[3] });
    });
    return flagList(specs, where);
}

/**
 * The flag table of Prometheus' `docs/command-line/prometheus.md` (generated upstream from the kingpin flags). A
 * flag whose default is `true`/`false` is a Bool; `booleans` names the Bools the table shows without a default. The
 * description's "Use with server mode only." / "Use with agent mode only." gives the mode.
 */
export function prometheusDocFlags(md: string, booleans: Record<string, string>, where = "prometheus.md"): FlagList {
    const specs: FlagSpec[] = [];
    md.split("\n").forEach((line, i) => {
        if (!line.startsWith("| <code")) return;
        const cells = line.split(/(?<!\\)\|/).slice(1, -1).map((c) => c.trim());
        if (cells.length !== 3) throw new Error(`${where}:${i + 1}: expected | flag | description | default |`);
        const spellings = [...cells[0].matchAll(/<code class="text-nowrap">(-[^<]+)<\/code>/g)].map((x) => x[1]);
        const long = spellings.find((s) => s.startsWith("--"))?.slice(2);
        const short = spellings.find((s) => /^-[A-Za-z0-9]$/.test(s))?.slice(1);
        if (long === undefined) throw new Error(`${where}:${i + 1}: no --flag in ${cells[0]}`);
        const bool = cells[2] === "`true`" || cells[2] === "`false`" || long in booleans;
        const mode = cells[1].endsWith("Use with server mode only.") ? "server" : cells[1].endsWith("Use with agent mode only.") ? "agent" : undefined;
        specs.push({ long, short, value: bool ? "none" : "required", negatable: bool, mode, source: `${where}:${i + 1}` });
    });
    for (const b of Object.keys(booleans)) if (!specs.some((s) => s.long === b)) throw new Error(`${where}: no --${b} in the table`);
    return flagList(specs, where);
}

/** One field of a Go struct as a derived `*.fields.txt` lists it. */
export interface GoField {
    readonly struct: string;
    /**
     * The key (json/yaml tag name); `(inline)`: every key of `type` is a key of `struct`; `(type)`: `struct` is not a
     * struct but a named type defined as `type` (`type TenantsWriteLimitsConfig map[string]*WriteLimitConfig`).
     */
    readonly key: string;
    readonly type: string;
    /** Where upstream defines it (file:line, a dependency as module@version/path). */
    readonly source: string;
}

/**
 * A derived field list: `#` comment lines, then one field per line: struct, key, Go type and upstream file:line,
 * separated by tabs. A malformed line throws, so a bad fixture cannot check nothing.
 */
export function parseGoFields(text: string, where: string): Map<string, GoField[]> {
    const out = new Map<string, GoField[]>();
    text.split("\n").forEach((line, i) => {
        if (line.trim() === "" || line.startsWith("#")) return;
        const cells = line.split("\t");
        if (cells.length !== 4 || cells.some((c) => c === "") || !/^[A-Za-z0-9_]+$/.test(cells[0]) || !/:\d+$/.test(cells[3])) {
            throw new Error(`${where}:${i + 1}: not "<Struct>\\t<key>\\t<type>\\t<file:line>": ${JSON.stringify(line)}`);
        }
        const [struct, key, type, source] = cells;
        if (key.startsWith("(") && key !== "(inline)" && key !== "(type)") throw new Error(`${where}:${i + 1}: ${key}: only (inline) and (type) are special keys`);
        const list = out.get(struct) ?? [];
        if (list.some((f) => f.key === key && key !== "(inline)")) throw new Error(`${where}:${i + 1}: ${struct}.${key} twice`);
        if (list.some((f) => f.key === "(type)") || (key === "(type)" && list.length > 0)) throw new Error(`${where}:${i + 1}: ${struct} is a (type) and has fields`);
        list.push({ struct, key, type, source });
        out.set(struct, list);
    });
    return out;
}

/** The keys of a struct, inline structs resolved: key → field. */
export function goStructKeys(fields: ReadonlyMap<string, GoField[]>, struct: string, where: string): Map<string, GoField> {
    const list = fields.get(struct);
    if (!list) throw new Error(`${where}: no field list for ${struct}`);
    const out = new Map<string, GoField>();
    for (const f of list) {
        if (f.key === "(inline)") for (const [k, v] of goStructKeys(fields, goBaseType(f.type), where)) out.set(k, v);
        else out.set(f.key, f);
    }
    return out;
}

/** `*v1.SecretKeySelector` → `SecretKeySelector`. */
function goBaseType(type: string): string {
    return type.replace(/^\*/, "").replace(/^[a-z][A-Za-z0-9]*\./, "");
}

export interface GoWalkOptions {
    /**
     * Structs whose custom unmarshaller also takes a plain value, each with the upstream lines that say so (Thanos'
     * receive.Endpoint: an address string or an object).
     */
    readonly scalarToo?: Readonly<Record<string, string>>;
}

/**
 * Every key of `value` that the Go struct (as the field list describes it) has no field for, as `path: message`
 * lines. Go types: `*T` is T, `[]T` a list of T, `map[string]T` a map with free keys and T values, `any` and
 * `interface{}` anything, a `(type)` entry its definition; a named type the list does not describe is a scalar (a
 * mapping there is reported).
 */
export function walkGoFields(
    value: unknown,
    type: string,
    fields: ReadonlyMap<string, GoField[]>,
    where: string,
    path = "",
    opts: GoWalkOptions = {},
): string[] {
    const here = path || "(root)";
    if (value === null || value === undefined) return [];
    const t = type.replace(/^\*/, "");
    if (t === "any" || t === "interface{}") return [];
    if (t.startsWith("[]")) {
        if (!Array.isArray(value)) return [`${here}: a ${typeof value} where ${where} has a list (${type})`];
        return value.flatMap((v, i) => walkGoFields(v, t.slice(2), fields, where, `${path}[${i}]`, opts));
    }
    const map = /^map\[string\](.+)$/.exec(t);
    if (map) {
        if (typeof value !== "object" || Array.isArray(value)) return [`${here}: not a mapping where ${where} has ${type}`];
        return Object.entries(value).flatMap(([k, v]) => walkGoFields(v, map[1], fields, where, path ? `${path}.${k}` : k, opts));
    }
    const base = goBaseType(t);
    if (!fields.has(base)) return typeof value === "object" ? [`${here}: a mapping where ${where} has ${type} (no field list for it)`] : [];
    const alias = fields.get(base)!.find((f) => f.key === "(type)");
    if (alias) return walkGoFields(value, alias.type, fields, where, path, opts);
    if (typeof value !== "object" && opts.scalarToo?.[base] !== undefined) return [];
    if (typeof value !== "object" || Array.isArray(value)) return [`${here}: not a mapping where ${where} has the struct ${base}`];
    const keys = goStructKeys(fields, base, where);
    const problems: string[] = [];
    for (const [k, v] of Object.entries(value)) {
        const f = keys.get(k);
        const p = path ? `${path}.${k}` : k;
        if (f === undefined) problems.push(`${p}: ${base} has no field ${k} (${where})`);
        else problems.push(...walkGoFields(v, f.type, fields, where, p, opts));
    }
    return problems;
}

/** One metric series name as a derived `metrics.txt` lists it. */
export interface MetricDefinition {
    readonly name: string;
    /** Where upstream defines it (file:line, a dependency as module@version/path:line). */
    readonly source: string;
    /** How the name is formed; a note starting with `deprecated:` quotes upstream's deprecation. */
    readonly note: string;
    readonly deprecated: boolean;
}

/**
 * A derived `metrics.txt`: `#` comment lines, then one series name per line: name, upstream file:line and a note,
 * separated by tabs. A malformed line throws, so a bad fixture cannot check nothing.
 */
export function parseMetricsTxt(text: string, where: string): Map<string, MetricDefinition> {
    const out = new Map<string, MetricDefinition>();
    text.split("\n").forEach((line, i) => {
        if (line.trim() === "" || line.startsWith("#")) return;
        const c = line.split("\t");
        if (c.length !== 3 || !/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(c[0]) || !/:\d+$/.test(c[1]) || c[2].trim() === "") {
            throw new Error(`${where}:${i + 1}: not "<name>\\t<file:line>\\t<note>": ${JSON.stringify(line)}`);
        }
        if (out.has(c[0])) throw new Error(`${where}:${i + 1}: ${c[0]} twice`);
        out.set(c[0], { name: c[0], source: c[1], note: c[2], deprecated: c[2].startsWith("deprecated:") });
    });
    return out;
}
