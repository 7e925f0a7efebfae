/**
 * What the operator docs (docs/ko/, README.md) name, read out of their Markdown, and the program's own definitions to
 * check it against: config key paths (from the zod schema in lib/config.ts), npm scripts (package.json), repository
 * files, and `pulumi` commands that must name their stack. Pure functions; test/docs.test.ts runs them.
 */
import * as fs from "fs";
import * as path from "path";
import GithubSlugger from "github-slugger";
import { parse } from "yaml";
import type { z } from "zod";
import { PROJECT, isSecretKeyName, stackSchema } from "../../lib/config";

/** Fenced code blocks of a language (a regex alternative: `sh|bash`), with the line they start on. */
export function blocks(text: string, lang: string): { line: number; code: string }[] {
    const out: { line: number; code: string }[] = [];
    const re = new RegExp("^```(?:" + lang + ")[ \\t]*\\n([\\s\\S]*?)^```", "gm");
    for (const m of text.matchAll(re)) out.push({ line: text.slice(0, m.index).split("\n").length, code: m[1] });
    return out;
}

/** The text outside fenced code blocks. */
export function prose(text: string): string {
    return text.replace(/^```[\s\S]*?^```/gm, "");
}

/** Inline code spans of the prose (`…`). */
export function inlineCode(text: string): string[] {
    return [...prose(text).matchAll(/`([^`\n]+)`/g)].map((m) => m[1]);
}

/** `a.{b,c.{d,e}}` → `a.b`, `a.c.d`, `a.c.e` (shell-style brace expansion, nested). */
export function expandBraces(s: string): string[] {
    const open = s.indexOf("{");
    if (open < 0) return [s];
    let depth = 0;
    let close = -1;
    const commas: number[] = [];
    for (let i = open; i < s.length; i++) {
        if (s[i] === "{") depth++;
        else if (s[i] === "}" && --depth === 0) {
            close = i;
            break;
        } else if (s[i] === "," && depth === 1) commas.push(i);
    }
    if (close < 0) return [s];
    const bounds = [open, ...commas, close];
    const options = bounds.slice(0, -1).map((b, i) => s.slice(b + 1, bounds[i + 1]));
    return options.flatMap((o) => expandBraces(s.slice(0, open) + o + s.slice(close + 1)));
}

// ---------------------------------------------------------------------------------------------------------
// Config key paths, from the schema
// ---------------------------------------------------------------------------------------------------------

type Schema = z.core.$ZodType;
const def = (s: Schema): any => (s as any)._zod.def;

/** The schema under wrappers (optional, default, prefault, nullable, catch, readonly, lazy, pipes of a transform). */
function unwrap(s: Schema): Schema {
    for (;;) {
        const d = def(s);
        if (["optional", "default", "prefault", "nullable", "nonoptional", "catch", "readonly"].includes(d.type)) s = d.innerType;
        else if (d.type === "lazy") s = d.getter();
        else if (d.type === "pipe") s = def(d.in).type === "transform" ? d.out : d.in;
        else return s;
    }
}

/** A path segment as docs write it: `name`, `[0]` / `[]` (an element), `<writer>` / `*` (any key). */
function segments(keyPath: string): string[] | undefined {
    const out: string[] = [];
    const re = /([^.[\]]+)|\[(\d*|<[^>]+>)\]/g;
    let last = 0;
    for (const m of keyPath.matchAll(re)) {
        const gap = keyPath.slice(last, m.index);
        if (gap !== "" && gap !== ".") return undefined;
        out.push(m[1] ?? "[]");
        last = m.index! + m[0].length;
    }
    return last === keyPath.length ? out : undefined;
}

function resolve(s: Schema, segs: string[]): boolean {
    if (segs.length === 0) return true;
    const [head, ...rest] = segs;
    const u = unwrap(s);
    const d = def(u);
    const anyKey = head === "*" || /^<[^>]+>$/.test(head);
    switch (d.type) {
        case "object":
            if (anyKey) return Object.values(d.shape as Record<string, Schema>).some((c) => resolve(c, rest));
            return head in d.shape && resolve(d.shape[head], rest);
        case "record":
            return head !== "[]" && resolve(d.valueType, rest);
        case "array":
            return head === "[]" && resolve(d.element, rest);
        case "union":
            return (d.options as Schema[]).some((o) => resolve(o, segs));
        default:
            return false;
    }
}

/**
 * Whether `keyPath` (without `agent-receiver:`) names a key of the stack configuration: a path of the schema, where
 * `[0]` or `[]` is a list element and `<name>` or `*` stands for any key of a map; or an operator secret
 * (`minioPassword`, `alertWebhook<Name>`). Braces are expanded (`central.{query,queryFrontend}.replicas`).
 */
export function isConfigKeyPath(keyPath: string): boolean {
    return expandBraces(keyPath).every((p) => {
        if (isSecretKeyName(p) || /^alertWebhook(<[^>]+>|[A-Z]\w*)$/.test(p)) return true;
        const segs = segments(p);
        return segs !== undefined && resolve(stackSchema, segs);
    });
}

/** A key as matched in running text, without the punctuation that follows it (`,`, `.`, a `]` it does not open). */
function trimKey(k: string): string {
    let t = k.replace(/[.,]+$/, "");
    while (t.endsWith("]") && (t.match(/\[/g) ?? []).length < (t.match(/]/g) ?? []).length) t = t.slice(0, -1).replace(/[.,]+$/, "");
    return t;
}

const KEY_CHARS = String.raw`[A-Za-z][\w.\[\]<>{},*-]*`;
const TOP_LEVEL = Object.keys(def(unwrap(stackSchema)).shape as Record<string, unknown>);

/** The config key paths a page names: `agent-receiver:<path>` anywhere, inline code that starts with a top-level section, YAML config blocks. */
export function configKeyPaths(text: string): string[] {
    const found = new Set<string>();
    for (const m of text.matchAll(new RegExp(`${PROJECT}:(${KEY_CHARS})`, "g"))) found.add(trimKey(m[1]));
    const sections = TOP_LEVEL.filter((k) => !["role", "clusterName"].includes(k)).join("|");
    for (const code of inlineCode(text)) {
        const t = code.trim();
        if (new RegExp(String.raw`^(${sections})[.[][\w.\[\]<>{},*-]*$`).test(t) && !/\.(ts|md|ya?ml|json|js|mjs)$/.test(t)) found.add(t);
    }
    for (const b of blocks(text, "yaml")) {
        let doc: unknown;
        try {
            doc = parse(b.code);
        } catch {
            continue; // the YAML check reports it
        }
        const root = doc && typeof doc === "object" && "config" in (doc as object) ? (doc as any).config : doc;
        if (!root || typeof root !== "object" || Array.isArray(root)) continue;
        for (const [k, v] of Object.entries(root as Record<string, unknown>)) {
            if (!k.startsWith(`${PROJECT}:`)) continue;
            for (const leaf of leafPaths(v, k.slice(PROJECT.length + 1))) found.add(leaf);
        }
    }
    return [...found];
}

/** Every leaf path of a YAML value, lists as `[]`. */
function leafPaths(v: unknown, at: string): string[] {
    if (Array.isArray(v)) return v.length === 0 ? [at] : v.flatMap((e) => leafPaths(e, `${at}[]`));
    if (v && typeof v === "object") {
        const entries = Object.entries(v as Record<string, unknown>);
        return entries.length === 0 ? [at] : entries.flatMap(([k, c]) => leafPaths(c, `${at}.${k}`));
    }
    return [at];
}

// ---------------------------------------------------------------------------------------------------------
// npm scripts, repository files, pulumi commands
// ---------------------------------------------------------------------------------------------------------

/** The scripts `npm run <script>` names in a page (`npm run -s images`, `npm run plan -- cluster-02`). */
export function npmScripts(text: string): string[] {
    return [...new Set([...text.matchAll(/\bnpm run(?:\s+(?:-s|--silent))?\s+([\w:.-]+)/g)].map((m) => m[1]))];
}

const REPO_DIRS = [".github", ".ci", "lib", "components", "stacks", "tools", "scripts", "test", "docs", "plans", "policy"];
const ROOT_FILES = /^(index\.ts|package(-lock)?\.json|tsconfig\.json|eslint\.config\.mjs|renovate\.json|README\.md|Pulumi(\.[\w<>*-]+)?\.yaml)$/;

/**
 * Repository paths a page names in inline code (`lib/config.ts`, `plans/<stack>.yaml`,
 * `test/fixtures/upstream/<project>-<version>/`). A path the page tells the operator to create is marked so right
 * after it: `Pulumi.cluster-05.yaml`(새 파일).
 */
export function repoPaths(text: string): string[] {
    const found = new Set<string>();
    const spans = [...prose(text).matchAll(/`([^`\n]+)`(\s*\((새 파일|new file))?/g)].filter((m) => m[2] === undefined).map((m) => m[1]);
    for (const code of spans) {
        for (const word of code.split(/\s+/)) {
            const t = word.replace(/[),.;:]+$/, "").replace(/:\d+(-\d+)?$/, "").replace(/#.*$/, "");
            if (new RegExp(`^(${REPO_DIRS.map((d) => d.replace(".", "\\.")).join("|")})/[\\w./<>*{},-]*$`).test(t) || ROOT_FILES.test(t)) found.add(t);
        }
    }
    return [...found];
}

/** Whether a repository path exists; `<name>` and `*` match within one path segment, braces expand. */
export function repoPathExists(root: string, p: string): boolean {
    return expandBraces(p).every((one) => {
        const segs = one.replace(/\/$/, "").split("/");
        const walk = (dir: string, i: number): boolean => {
            if (i === segs.length) return true;
            const seg = segs[i];
            if (!/[<*]/.test(seg)) return fs.existsSync(path.join(dir, seg)) && walk(path.join(dir, seg), i + 1);
            const re = new RegExp("^" + seg.split(/(<[^>]+>|\*)/).map((part) => (/^(<[^>]+>|\*)$/.test(part) ? "[^/]+" : part.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))).join("") + "$");
            if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) return false;
            return fs.readdirSync(dir).some((e) => re.test(e) && walk(path.join(dir, e), i + 1));
        };
        return walk(root, 0);
    });
}

/** `pulumi` subcommands that act on one stack, so a command an operator copies must say which (`--stack`). */
const STACK_COMMANDS = /^pulumi\s+(up|preview|destroy|refresh|import|cancel|config\s+(set|rm|get|set-all|rm-all|refresh)|stack\s+(output|export|import|history|tag|rm|change-secrets-provider)|state\s+(unprotect|protect|delete|move|rename|edit|repair))\b(?<rest>.*)$/;

/**
 * `pulumi` commands in a page that act on a stack without naming it (`--stack`/`-s`): every such command in a shell
 * block, and in the prose every one that carries an argument (a bare `pulumi up` or `pulumi config set --path` in a
 * sentence names the command, not a command to run).
 */
export function pulumiCommandsWithoutStack(text: string): string[] {
    const hasStack = (c: string) => /(^|\s)(--stack|-s)(=|\s)\S/.test(c);
    const bad: string[] = [];
    for (const b of blocks(text, "sh|bash|shell|console")) {
        for (const line of b.code.split("\n")) {
            for (const part of line.replace(/#.*$/, "").split(/&&|\|\||;|\|/)) {
                const c = part.trim();
                if (STACK_COMMANDS.test(c) && !hasStack(c)) bad.push(c);
            }
        }
    }
    for (const code of inlineCode(text)) {
        for (const part of code.split(/&&|\|\||;|\|/)) {
            const c = part.trim();
            const m = STACK_COMMANDS.exec(c);
            if (!m || hasStack(c)) continue;
            const args = (m.groups?.rest ?? "").trim().split(/\s+/).filter((a) => a !== "");
            if (args.some((a) => !a.startsWith("--"))) bad.push(c);
        }
    }
    return bad;
}

/**
 * `pulumi config set|rm|get` of a nested key (`agent-receiver:a.b`, `agent-receiver:a[0]`) without `--path`: the CLI
 * would store, remove or read one flat key the program refuses.
 */
export function configCommandsWithoutPath(text: string): string[] {
    const bad: string[] = [];
    for (const m of text.matchAll(/pulumi config (set|rm|get)\b[^\n`]*/g)) {
        const key = new RegExp(`['"]?${PROJECT}:([^\\s'"]+)`).exec(m[0])?.[1];
        if (key !== undefined && /[.[]/.test(key) && !/(^|\s)--path(\s|$)/.test(m[0])) bad.push(m[0]);
    }
    return bad;
}

/** The anchors GitHub gives a page's headings (github-slugger, as GitHub renders Markdown; duplicates get `-1`, `-2`). */
export function headingAnchors(text: string): Set<string> {
    const slugger = new GithubSlugger();
    return new Set([...prose(text).matchAll(/^#{1,6}\s+(.+?)\s*#*\s*$/gm)].map((m) => slugger.slug(m[1].replace(/`/g, ""))));
}

/**
 * Relative links of a page that lead nowhere: a file that does not exist, or an anchor (`page.md#section`, `#section`)
 * that no heading of the target has.
 */
export function brokenLinks(file: string, text: string): string[] {
    const broken: string[] = [];
    for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = m[1];
        if (/^[a-z]+:/.test(target)) continue;
        const [rel, anchor] = target.split("#");
        const dest = rel === "" ? file : path.resolve(path.dirname(file), decodeURIComponent(rel));
        if (!fs.existsSync(dest)) {
            broken.push(target);
            continue;
        }
        if (anchor !== undefined && dest.endsWith(".md") && !headingAnchors(fs.readFileSync(dest, "utf8")).has(decodeURIComponent(anchor))) broken.push(target);
    }
    return broken;
}
