import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { ROOT } from "../tools/plan";
import { producedMetricNames } from "../lib/producedMetrics";
import { parsePromQL } from "./helpers/promql";

const DOCS = path.join(ROOT, "docs", "ko");

function markdownFiles(dir: string): string[] {
    return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? markdownFiles(path.join(dir, e.name)) : e.name.endsWith(".md") ? [path.join(dir, e.name)] : []));
}

/** Fenced code blocks of a language, with the line they start on. */
function blocks(text: string, lang: string): { line: number; code: string }[] {
    const out: { line: number; code: string }[] = [];
    const re = new RegExp("^```" + lang + "\\s*\\n([\\s\\S]*?)^```", "gm");
    for (const m of text.matchAll(re)) out.push({ line: text.slice(0, m.index).split("\n").length, code: m[1] });
    return out;
}

/**
 * `pulumi config set` commands that name a nested key (`agent-receiver:a.b`, `agent-receiver:a[0]`) without `--path`:
 * the CLI would store one flat key the program refuses.
 */
function configSetsWithoutPath(text: string): string[] {
    const bad: string[] = [];
    for (const m of text.matchAll(/pulumi config set\b[^\n`]*/g)) {
        const key = /['"]?agent-receiver:([^\s'"]+)/.exec(m[0])?.[1];
        if (key !== undefined && /[.[]/.test(key) && !/(^|\s)--path(\s|$)/.test(m[0])) bad.push(m[0]);
    }
    return bad;
}

const files = [...markdownFiles(DOCS), path.join(ROOT, "README.md")];
const rel = (f: string) => path.relative(ROOT, f);

describe("operator docs (docs/ko) and README", () => {
    it("there are docs to check", () => {
        assert.ok(markdownFiles(DOCS).length >= 25, "docs/ko holds the guide and one runbook per alert");
    });

    it("the block extractor finds blocks and the checks reject broken ones (so the checks below can fail)", () => {
        const text = "x\n```yaml\na: [1\n```\n```promql\nsum(rate(nope_total[5m])\n```\n";
        assert.throws(() => parse(blocks(text, "yaml")[0].code));
        assert.ok(parsePromQL(blocks(text, "promql")[0].code).errors.length > 0);
        assert.deepStrictEqual(configSetsWithoutPath("`pulumi config set agent-receiver:central.receive.replicas 5`"), ["pulumi config set agent-receiver:central.receive.replicas 5"]);
        assert.deepStrictEqual(configSetsWithoutPath("pulumi config set --path 'agent-receiver:edge.tenants[0].quota.cpu' 8\npulumi config set --secret agent-receiver:minioPassword"), []);
    });

    for (const f of files) {
        const text = fs.readFileSync(f, "utf8");
        it(`${rel(f)}: YAML and JSON blocks parse, PromQL blocks parse and use produced metrics only`, () => {
            for (const b of blocks(text, "yaml")) assert.doesNotThrow(() => parse(b.code), `${rel(f)}:${b.line}: YAML`);
            for (const b of blocks(text, "json")) assert.doesNotThrow(() => JSON.parse(b.code), `${rel(f)}:${b.line}: JSON`);
            const produced = producedMetricNames();
            for (const b of blocks(text, "promql")) {
                const p = parsePromQL(b.code.trim());
                assert.deepStrictEqual(p.errors, [], `${rel(f)}:${b.line}: PromQL`);
                assert.deepStrictEqual(p.metricNames.filter((n) => !produced.has(n)), [], `${rel(f)}:${b.line}: metrics the platform does not produce`);
            }
        });

        it(`${rel(f)}: no command turns off TLS verification (curl -k/--insecure, wget --no-check-certificate)`, () => {
            const found = [...text.matchAll(/^.*\b(curl\b[^\n]*\s(-[a-zA-Z]*k[a-zA-Z]*|--insecure)\b|wget\b[^\n]*--no-check-certificate).*$/gm)].map((m) => m[0].trim());
            assert.deepStrictEqual(found, [], `${rel(f)}: pass the CA (pulumi stack output …CaCertPem) instead`);
        });

        it(`${rel(f)}: every pulumi config set of a nested key uses --path`, () => {
            assert.deepStrictEqual(configSetsWithoutPath(text), [], `${rel(f)}: a dotted key set without --path is one flat key the program refuses`);
        });

        it(`${rel(f)}: every relative link resolves`, () => {
            const broken: string[] = [];
            for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
                const target = m[1];
                if (/^[a-z]+:/.test(target) || target.startsWith("#")) continue;
                const file = path.resolve(path.dirname(f), target.split("#")[0]);
                if (!fs.existsSync(file)) broken.push(target);
            }
            assert.deepStrictEqual(broken, [], `${rel(f)}: broken links`);
        });
    }
});
