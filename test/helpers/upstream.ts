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
