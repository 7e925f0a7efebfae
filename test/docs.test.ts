import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { ROOT } from "../tools/plan";
import { STACKS } from "../tools/stacks";
import { producedMetricNames } from "../lib/producedMetrics";
import { charts, images } from "../lib/versions";
import { parsePromQL } from "./helpers/promql";
import { Claim, committedPlan, labelSelector, planClaims, pvcCommand } from "./helpers/claims";
import {
    blocks,
    brokenLinks,
    configCommandsWithoutPath,
    configKeyPaths,
    expandBraces,
    isConfigKeyPath,
    npmScripts,
    pulumiCommandsWithoutStack,
    repoPathExists,
    repoPaths,
} from "./helpers/docChecks";

const DOCS = path.join(ROOT, "docs", "ko");
const README = path.join(ROOT, "README.md");

function markdownFiles(dir: string): string[] {
    return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? markdownFiles(path.join(dir, e.name)) : e.name.endsWith(".md") ? [path.join(dir, e.name)] : []));
}

const files = [...markdownFiles(DOCS), README];
const rel = (f: string) => path.relative(ROOT, f);
const scripts = new Set(Object.keys((JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { scripts: Record<string, string> }).scripts));

/** The guide pages (not the runbooks, not the index): each ends with its last update, as the design notes' template. */
const guides = markdownFiles(DOCS).filter((f) => path.dirname(f) === DOCS && path.basename(f) !== "README.md");

/** A `##`/`###` section of a Markdown page, up to the next heading of the same or a higher level. */
function section(text: string, title: string): string {
    const m = new RegExp(`^(#+) ${title.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}\\s*$`, "m").exec(text);
    assert.ok(m, `no section "${title}"`);
    const rest = text.slice(m.index + m[0].length);
    // A `#` comment line in a code block is no heading: look for the next heading with the blocks blanked out.
    const masked = rest.replace(/^```[\s\S]*?^```/gm, (b) => b.replace(/[^\n]/g, " "));
    const next = new RegExp(`^#{1,${m[1].length}} `, "m").exec(masked);
    return next ? rest.slice(0, next.index) : rest;
}

/** The documented PVC commands' namespaces and selectors, with the claims each selects and the retained claims none selects. */
function selectorCoverage(text: string, claims: Claim[]) {
    const commands = blocks(text, "sh|bash")
        .flatMap((b) => b.code.split("\n"))
        .map(pvcCommand)
        .filter((c): c is { namespace?: string; selector: string } => c?.selector !== undefined);
    const selected = commands.map((c) => ({ ...c, claims: claims.filter((cl) => cl.namespace === c.namespace && labelSelector(c.selector)(cl.labels)) }));
    const missed = claims.filter((cl) => cl.retained && !selected.some((s) => s.claims.includes(cl)));
    return { selected, missed };
}

/** The value at a dotted path of a chart's values; keys may hold dots themselves (`config.opensearch.yml`), so each step takes the longest key that fits. */
function valueAt(values: unknown, p: string): { found: boolean } {
    if (p === "") return { found: true };
    if (!values || typeof values !== "object" || Array.isArray(values)) return { found: false };
    const keys = Object.keys(values as object)
        .filter((k) => p === k || p.startsWith(`${k}.`))
        .sort((a, b) => b.length - a.length);
    return keys.length > 0 ? valueAt((values as Record<string, unknown>)[keys[0]], p.slice(keys[0].length + 1)) : { found: false };
}

interface ChartValueRow {
    readonly line: number;
    readonly stacks: string[];
    readonly instances: string[];
    readonly paths: string[];
}

/** Rows of the chart-values reference: `| stacks | instance | value paths | why |`, every cell but the last in code. */
function chartValueRows(text: string): ChartValueRow[] {
    const rows: ChartValueRow[] = [];
    text.split("\n").forEach((line, i) => {
        const cells = line.split("|").slice(1, -1).map((c) => c.trim());
        if (cells.length < 4 || !/^`cluster-/.test(cells[0])) return;
        const codes = (c: string) => [...c.matchAll(/`([^`]+)`/g)].map((m) => m[1]);
        rows.push({ line: i + 1, stacks: codes(cells[0]), instances: codes(cells[1]), paths: codes(cells[2]).flatMap(expandBraces) });
    });
    return rows;
}

/** Problems of the chart-values rows against the committed plans: paths not set, and top-level values no row names. */
function chartValueProblems(rows: ChartValueRow[]): string[] {
    const problems: string[] = [];
    const charts = new Map<string, any>();
    for (const stack of STACKS) {
        for (const r of committedPlan(stack).resources) if (r.type === "kubernetes:helm.sh/v4:Chart") charts.set(r.name, r.inputs);
    }
    const named = new Map<string, Set<string>>();
    for (const row of rows) {
        for (const [stack, instance] of row.stacks.flatMap((st) => row.instances.map((i) => [st, i]))) {
            const chart = charts.get(`${stack}-${instance}`);
            if (!chart) {
                problems.push(`line ${row.line}: ${stack} has no chart instance ${stack}-${instance}`);
                continue;
            }
            for (const p of row.paths) {
                if (!valueAt(chart.values, p).found) problems.push(`line ${row.line}: ${stack}-${instance} does not set ${p}`);
                const set = named.get(`${stack}-${instance}`) ?? new Set<string>();
                set.add(Object.keys(chart.values).find((k) => p === k || p.startsWith(`${k}.`)) ?? p);
                named.set(`${stack}-${instance}`, set);
            }
        }
    }
    for (const [name, chart] of charts) {
        for (const key of Object.keys(chart.values ?? {})) {
            if (!named.get(name)?.has(key)) problems.push(`${name} (${chart.chart}) sets ${key}: no row names it`);
        }
    }
    return problems;
}

/** Rows of the pinned-version table in docs/ko/upgrades.md: `| key | 이미지/차트 | version | … |`. */
function versionRows(text: string): { key: string; kind: string; version: string }[] {
    return text
        .split("\n")
        .map((line) => /^\| `(\w+)` \| (이미지|차트) \| `([^`]+)` \|/.exec(line))
        .filter((m): m is RegExpExecArray => m !== null)
        .map((m) => ({ key: m[1], kind: m[2], version: m[3] }));
}

/** What the version table gets wrong against lib/versions.ts: wrong versions, unknown keys, pins it leaves out. */
function versionProblems(rows: { key: string; kind: string; version: string }[]): string[] {
    const pinned = [
        ...Object.entries(images).map(([key, v]) => ({ key, kind: "이미지", version: v.tag })),
        ...Object.entries(charts).map(([key, v]) => ({ key, kind: "차트", version: v.version })),
    ];
    const problems: string[] = [];
    for (const r of rows) {
        const pin = pinned.find((p) => p.key === r.key && p.kind === r.kind);
        if (!pin) problems.push(`${r.kind} ${r.key} is not in lib/versions.ts`);
        else if (pin.version !== r.version) problems.push(`${r.kind} ${r.key}: the page says ${r.version}, lib/versions.ts pins ${pin.version}`);
    }
    for (const p of pinned) if (!rows.some((r) => r.key === p.key && r.kind === p.kind)) problems.push(`${p.kind} ${p.key} (${p.version}) is missing from the table`);
    return problems;
}

/** The Node version a sentence of the README pins, and the one .ci/run installs. */
function nodeVersions(readme: string, ciRun: string): { readme: string[]; ci: string } {
    const ci = /^NODE_VERSION=(\S+)$/m.exec(ciRun)?.[1] ?? "";
    return { readme: [...new Set([...readme.matchAll(/Node\.js (\d+\.\d+\.\d+)/g)].map((m) => m[1]))], ci };
}

describe("operator docs (docs/ko) and README", () => {
    it("there are docs to check", () => {
        assert.ok(markdownFiles(DOCS).length >= 25, "docs/ko holds the guide and one runbook per alert");
        assert.ok(guides.length >= 20, "docs/ko holds the guide pages the design notes plan");
    });

    it("the checks below can fail: each rejects a planted mistake", () => {
        const text = "x\n```yaml\na: [1\n```\n```promql\nsum(rate(nope_total[5m])\n```\n";
        assert.throws(() => parse(blocks(text, "yaml")[0].code));
        assert.ok(parsePromQL(blocks(text, "promql")[0].code).errors.length > 0);
        // --path on nested keys
        assert.deepStrictEqual(configCommandsWithoutPath("`pulumi config set agent-receiver:central.receive.replicas 5`"), ["pulumi config set agent-receiver:central.receive.replicas 5"]);
        assert.deepStrictEqual(configCommandsWithoutPath("`pulumi config rm agent-receiver:edge.legacyTenantNodeLabel`"), ["pulumi config rm agent-receiver:edge.legacyTenantNodeLabel"]);
        assert.deepStrictEqual(configCommandsWithoutPath("pulumi config set --path 'agent-receiver:edge.tenants[0].quota.cpu' 8\npulumi config set --secret agent-receiver:minioPassword"), []);
        // npm scripts
        assert.deepStrictEqual(npmScripts("`npm run plan -- cluster-02`, `npm run -s images`, `npm run paln`").filter((s) => !scripts.has(s)), ["paln"]);
        // config key paths, derived from the schema
        for (const ok of ["central.receive.replicas", "central.writers[0].cluster", "central.writers[].tenants", "edge.tenants[].group", "central.rotation.writers.cluster-03", "central.receive.limits.tenants.<writer>.uniqueHeadSeries", "edge.agent.remoteWrite.*", "central.{query,queryFrontend}.replicas", "minioPassword", "alertWebhookPlatform"]) {
            assert.ok(isConfigKeyPath(ok), ok);
        }
        for (const bad of ["central.receive.replica", "central.writers.cluster", "edge.tenants[].groups", "central.receive.replicas.x", "central.{query,queryFrontnd}.replicas"]) {
            assert.ok(!isConfigKeyPath(bad), bad);
        }
        assert.deepStrictEqual(configKeyPaths("```yaml\nagent-receiver:central:\n  receive:\n    replicaz: 5\n```\n").filter((k) => !isConfigKeyPath(k)), ["central.receive.replicaz"]);
        assert.deepStrictEqual(configKeyPaths("set `central.monitoring.grafana.hostnme` and `edge.ts`").filter((k) => !isConfigKeyPath(k)), ["central.monitoring.grafana.hostnme"]);
        // repository paths
        assert.deepStrictEqual(repoPaths("see `lib/config.ts`, `lib/confg.ts:12`, `plans/<stack>.yaml`, `Pulumi.cluster-05.yaml` (새 파일)").filter((p) => !repoPathExists(ROOT, p)), ["lib/confg.ts"]);
        // pulumi commands name their stack
        assert.deepStrictEqual(pulumiCommandsWithoutStack("```sh\npulumi up\npulumi up --stack cluster-01\n```\n"), ["pulumi up"]);
        assert.deepStrictEqual(pulumiCommandsWithoutStack("복구는 `pulumi stack import --file cluster-01.state.json`, 개념은 `pulumi up`, `pulumi config set --path`"), ["pulumi stack import --file cluster-01.state.json"]);
        // PVC selectors: the README's former one matched no claim
        const claims = STACKS.flatMap(planClaims);
        const former = selectorCoverage("```bash\nkubectl delete pvc -n thanos -l app.kubernetes.io/part-of=agent-receiver\n```\n", claims);
        assert.deepStrictEqual(former.selected[0].claims, [], "the former selector matched nothing");
        assert.ok(former.missed.some((c) => c.namespace === "logging") && former.missed.some((c) => c.stack === "cluster-03"), "and missed every volume outside thanos");
        // chart values
        assert.ok(chartValueProblems([{ line: 1, stacks: ["cluster-01"], instances: ["logs-chart"], paths: ["persistence.sizee"] }]).some((p) => p.includes("does not set persistence.sizee")));
        assert.ok(chartValueProblems([]).some((p) => /cluster-01-logs-chart \(opensearch\) sets persistence: no row names it/.test(p)));
        // pinned versions
        assert.deepStrictEqual(versionProblems([{ key: "thanos", kind: "이미지", version: "v0.41.0" }]).filter((p) => p.startsWith("이미지 thanos")), [`이미지 thanos: the page says v0.41.0, lib/versions.ts pins ${images.thanos.tag}`]);
        assert.ok(versionProblems([]).includes(`차트 fluentBit (${charts.fluentBit.version}) is missing from the table`));
        // links and their anchors
        const page = path.join(DOCS, "operations.md");
        assert.deepStrictEqual(brokenLinks(page, "[a](verify.md#-체크리스트) [b](verify.md#no-such-heading) [c](nope.md) [d](#1️⃣-일일-점검-10분)"), ["verify.md#no-such-heading", "nope.md"]);
        // the README's Node version
        assert.notDeepStrictEqual(nodeVersions("`.ci/run` pins Node.js 24.20.0", "NODE_VERSION=24.21.0\n").readme, ["24.21.0"]);
        // update line
        assert.ok(!/^\*\*최종 업데이트\*\*: \d{4}-\d{2}-\d{2}\s*$/m.test("# 문서\n\n내용\n"));
    });

    it("every script a page names (npm run <script>) is in package.json", () => {
        const missing = files.flatMap((f) => npmScripts(fs.readFileSync(f, "utf8")).filter((s) => !scripts.has(s)).map((s) => `${rel(f)}: npm run ${s}`));
        assert.deepStrictEqual(missing, []);
    });

    it("every config key a page names is a key of the schema (lib/config.ts)", () => {
        const unknown = files.flatMap((f) => configKeyPaths(fs.readFileSync(f, "utf8")).filter((k) => !isConfigKeyPath(k)).map((k) => `${rel(f)}: ${k}`));
        assert.deepStrictEqual(unknown, []);
    });

    it("every repository file a page names exists", () => {
        const missing = files.flatMap((f) => repoPaths(fs.readFileSync(f, "utf8")).filter((p) => !repoPathExists(ROOT, p)).map((p) => `${rel(f)}: ${p}`));
        assert.deepStrictEqual(missing, []);
    });

    it("README, Really deleting data: each PVC selector selects claims of the committed plans, and every retained claim is selected", () => {
        const claims = STACKS.flatMap(planClaims);
        assert.ok(claims.length >= 8, "the plans hold the program's and the charts' claim templates");
        const { selected, missed } = selectorCoverage(section(fs.readFileSync(README, "utf8"), "Really deleting data"), claims);
        assert.ok(selected.length > 0, "the section lists selectors");
        assert.deepStrictEqual(selected.filter((s) => s.claims.length === 0).map((s) => `-n ${s.namespace} -l ${s.selector}`), [], "selectors that match no claim");
        assert.deepStrictEqual(missed.map((c) => `${c.stack} ${c.namespace}/${c.statefulSet} (${c.template}, ${c.from})`), [], "retained claims no selector finds");
    });

    it("the README states the Node version .ci/run installs", () => {
        const { readme, ci } = nodeVersions(fs.readFileSync(README, "utf8"), fs.readFileSync(path.join(ROOT, ".ci", "run"), "utf8"));
        assert.ok(ci !== "" && readme.length > 0, "both name a version");
        assert.deepStrictEqual(readme, [ci]);
    });

    it("docs/ko/chart-values.md: every value path it lists is set in the plan of its stack, and every value the plans set is listed", () => {
        const rows = chartValueRows(fs.readFileSync(path.join(DOCS, "chart-values.md"), "utf8"));
        assert.ok(rows.length >= 20, "the page lists the values");
        assert.deepStrictEqual(chartValueProblems(rows), []);
    });

    it("every guide page is linked from the index and ends with its last update", () => {
        const index = fs.readFileSync(path.join(DOCS, "README.md"), "utf8");
        assert.deepStrictEqual(guides.filter((g) => !index.includes(`](${path.basename(g)})`)).map(rel), [], "pages the index does not link");
        assert.deepStrictEqual(guides.filter((g) => !/^\*\*최종 업데이트\*\*: \d{4}-\d{2}-\d{2}\s*$/m.test(fs.readFileSync(g, "utf8"))).map(rel), [], "pages without **최종 업데이트**: YYYY-MM-DD");
    });

    it("docs/ko/upgrades.md: the version table is lib/versions.ts", () => {
        const rows = versionRows(fs.readFileSync(path.join(DOCS, "upgrades.md"), "utf8"));
        assert.deepStrictEqual(versionProblems(rows), []);
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

        it(`${rel(f)}: every pulumi config set/rm/get of a nested key uses --path, every pulumi command to run names its stack`, () => {
            assert.deepStrictEqual(configCommandsWithoutPath(text), [], `${rel(f)}: a dotted key without --path is one flat key the program refuses`);
            assert.deepStrictEqual(pulumiCommandsWithoutStack(text), [], `${rel(f)}: add --stack <stack> (the selected stack may be another)`);
        });

        it(`${rel(f)}: every relative link resolves, anchors included`, () => {
            assert.deepStrictEqual(brokenLinks(f, text), [], `${rel(f)}: broken links`);
        });
    }
});
