/**
 * The keys a configuration file may hold, read from the YAML skeletons of an upstream configuration reference
 * (Prometheus' and Alertmanager's docs/configuration.md): each section `### \`<name>\`` opens with a skeleton such as
 *
 *     # comment
 *     [ scrape_interval: <duration> | default = 1m ]      a key (brackets: optional)
 *     tls_config:
 *       [ <tls_config> ]                                  the value is the section <tls_config>
 *     relabel_configs:
 *       [ - <relabel_config> ... ]                        a list of <relabel_config>
 *     [ <http_config> ]                                   every key of <http_config> is a key here too
 *     external_labels:
 *       [ <labelname>: <labelvalue> ... ]                 a map with keys of the caller's choosing
 *
 * and a nested key's children are the lines indented further than the key's line. `walk` then checks a generated configuration against it, key by key.
 */

/** What a skeleton says a value is. */
export type KeyNode =
    | { readonly kind: "scalar" }
    /** Anything: an inline `{ ... }` placeholder (e.g. a webhook's `payload`), not described key by key. */
    | { readonly kind: "any" }
    | { readonly kind: "ref"; readonly section: string }
    | {
          readonly kind: "object";
          readonly keys: ReadonlyMap<string, KeyNode>;
          /** Sections whose keys are keys here too (`[ <http_config> ]`). */
          readonly includes: readonly string[];
          /** A map whose keys are free (`<labelname>: …`), with the node of its values. */
          readonly free?: KeyNode;
      };

interface Line {
    readonly no: number;
    readonly col: number;
    readonly kind: "key" | "free" | "ref" | "scalar";
    readonly key?: string;
    readonly value?: string;
}

const KEY = /^([A-Za-z_][A-Za-z0-9_.]*):(?:\s+(.*))?$/;
const FREE = /^<([A-Za-z0-9_]+)>:(?:\s+(.*))?$/;
const REF = /^<([A-Za-z0-9_]+)>[\s,.\]]*$/;

/** A skeleton line: its indentation is that of its first character, its content what follows `[`, `-` and spaces. */
function readLine(raw: string, no: number): Line | undefined {
    const col = /^\s*/.exec(raw)![0].length;
    const rest = raw.slice(/^[\s[\-]*/.exec(raw)![0].length).trimEnd();
    if (rest === "" || rest.startsWith("#")) return undefined;
    // A value ends before a default (`| default = …`) and the closing brackets of the optional marks.
    const value = (v: string | undefined) => (v ?? "").replace(/\s*\|\s*default\b.*$/, "").replace(/[\s\]]+$/, "");
    let x: RegExpExecArray | null;
    if ((x = KEY.exec(rest))) return { no, col, kind: "key", key: x[1], value: value(x[2]) };
    if ((x = FREE.exec(rest))) return { no, col, kind: "free", key: x[1], value: value(x[2]) };
    if ((x = REF.exec(rest))) return { no, col, kind: "ref", key: x[1] };
    return { no, col, kind: "scalar" };
}

export class ConfigReference {
    private readonly lines: string[];
    private readonly cache = new Map<string, KeyNode>();

    /**
     * `root` is the heading whose first YAML block is the whole file's skeleton; `scalarSections` names sections that
     * describe a string format, not keys (Alertmanager's `<matcher>`).
     */
    constructor(
        readonly where: string,
        markdown: string,
        private readonly root: string,
        private readonly scalarSections: readonly string[] = [],
    ) {
        this.lines = markdown.split("\n");
    }

    /** Section names the document defines (`### \`<name>\``, `#### \`<name>\``). */
    sections(): string[] {
        return this.lines.map((l) => /^#{2,4} `<([a-z0-9_]+)>`/.exec(l)?.[1]).filter((s): s is string => s !== undefined);
    }

    /** The first ```yaml block under a heading: to the next heading of the same or a higher level. */
    private skeleton(heading: RegExp, name: string): { start: number; lines: string[] } {
        const at = this.lines.findIndex((l) => heading.test(l));
        if (at < 0) throw new Error(`${this.where}: no section ${name}`);
        const level = /^#+/.exec(this.lines[at])![0].length;
        let end = this.lines.length;
        let fenced = false;
        for (let i = at + 1; i < this.lines.length; i++) {
            // YAML comments inside code blocks start with `#` too: they are not headings.
            if (this.lines[i].startsWith("```")) fenced = !fenced;
            const h = fenced ? null : /^(#+) /.exec(this.lines[i]);
            if (h && h[1].length <= level) {
                end = i;
                break;
            }
        }
        // A block that is a list (`- targets: …`, <file_sd_config>'s example of a target file) is an example, not
        // the skeleton of a section, which is always a mapping.
        for (let i = at; i < end; i++) {
            if (this.lines[i].trim() !== "```yaml") continue;
            const start = i + 1;
            const close = this.lines.slice(start, end).findIndex((l) => l.trim() === "```");
            if (close < 0) throw new Error(`${this.where}: unterminated YAML block at line ${start}`);
            const lines = this.lines.slice(start, start + close);
            const first = lines.find((l) => l.trim() !== "" && !l.trim().startsWith("#"));
            if (first !== undefined && !first.trim().startsWith("- ")) return { start, lines };
            i = start + close;
        }
        throw new Error(`${this.where}: section ${name} (line ${at + 1}) has no YAML skeleton`);
    }

    /** The node of a section (`""`: the root, the whole file). */
    section(name: string): KeyNode {
        const hit = this.cache.get(name);
        if (hit) return hit;
        let node: KeyNode;
        if (this.scalarSections.includes(name)) node = { kind: "scalar" };
        else {
            const heading = name === "" ? new RegExp(`^#+ ${this.root}\\s*$`) : new RegExp(`^#{2,4} \`<${name}>\`(\\s|$)`);
            const sk = this.skeleton(heading, name === "" ? this.root : `<${name}>`);
            const lines = sk.lines.map((l, i) => readLine(l, sk.start + i + 1)).filter((l): l is Line => l !== undefined);
            node = this.parse(lines, 0, lines.length);
        }
        this.cache.set(name, node);
        return node;
    }

    private value(v: string): KeyNode {
        if (v.startsWith("{")) return { kind: "any" };
        const ref = /^<([A-Za-z0-9_]+)>$/.exec(v);
        if (ref && this.sections().includes(ref[1])) return { kind: "ref", section: ref[1] };
        return { kind: "scalar" };
    }

    /** The node described by lines[from, to): keys (with their children), free keys, section references, scalars. */
    private parse(lines: Line[], from: number, to: number): KeyNode {
        const keys = new Map<string, KeyNode>();
        const refs: string[] = [];
        let free: KeyNode | undefined;
        for (let i = from; i < to; ) {
            const l = lines[i];
            // A key's children are the lines indented under it; a key that has a value has none, and the lines
            // indented under it are its siblings in a list item (`[ - role: <string>` then `  [ label: <string> ]`).
            let j = i + 1;
            if (!(l.kind === "key" && l.value)) while (j < to && lines[j].col > l.col) j++;
            const child = () => (l.value ? this.value(l.value) : j > i + 1 ? this.parse(lines, i + 1, j) : ({ kind: "scalar" } as KeyNode));
            if (l.kind === "key") {
                if (keys.has(l.key!)) throw new Error(`${this.where}:${l.no}: ${l.key} twice in one skeleton`);
                keys.set(l.key!, child());
            } else if (l.kind === "free") free = child();
            // `<filepath_glob>` and the like are placeholders of values, not sections.
            else if (l.kind === "ref" && this.sections().includes(l.key!)) refs.push(l.key!);
            i = j;
        }
        if (keys.size === 0 && free === undefined) {
            if (refs.length === 1) return { kind: "ref", section: refs[0] };
            if (refs.length > 1) throw new Error(`${this.where}:${lines[from].no}: several sections as one value`);
            return { kind: "scalar" };
        }
        return { kind: "object", keys, includes: refs, free };
    }

    /** Every key a section allows at its top level, includes resolved (for tests and messages). */
    keysOf(name: string): string[] {
        const n = this.resolve(this.section(name));
        return n.kind === "object" ? [...this.allKeys(n).keys()].sort() : [];
    }

    private resolve(n: KeyNode): KeyNode {
        for (let depth = 0; n.kind === "ref"; depth++) {
            if (depth > 20) throw new Error(`${this.where}: reference loop at <${n.section}>`);
            n = this.section(n.section);
        }
        return n;
    }

    private allKeys(n: Extract<KeyNode, { kind: "object" }>): Map<string, KeyNode> {
        const out = new Map(n.keys);
        for (const inc of n.includes) {
            const m = this.resolve(this.section(inc));
            if (m.kind !== "object") throw new Error(`${this.where}: <${inc}> is included as keys but has none`);
            for (const [k, v] of this.allKeys(m)) if (!out.has(k)) out.set(k, v);
        }
        return out;
    }

    /**
     * Every key of `value` that the reference does not allow where it stands, as `path: message` lines. Lists are
     * checked element by element against the node of the list.
     */
    walk(value: unknown, node: KeyNode = this.section(""), path = "", section = "(root)"): string[] {
        if (node.kind === "ref") return this.walk(value, this.section(node.section), path, `<${node.section}>`);
        if (Array.isArray(value)) return value.flatMap((v, i) => this.walk(v, node, `${path}[${i}]`, section));
        if (value === null || typeof value !== "object") return [];
        if (node.kind === "any") return [];
        if (node.kind === "scalar") return [`${path || "(root)"}: a mapping where ${section} has a value`];
        const keys = this.allKeys(node);
        const problems: string[] = [];
        for (const [k, v] of Object.entries(value)) {
            const child = keys.get(k) ?? node.free;
            const p = path ? `${path}.${k}` : k;
            if (child === undefined) problems.push(`${p}: not a key of ${section} (${this.where})`);
            else problems.push(...this.walk(v, child, p, child.kind === "ref" || section.endsWith(`.${k}`) ? section : `${section}.${k}`));
        }
        return problems;
    }
}
