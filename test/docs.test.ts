import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { ROOT } from "../tools/plan";
import { STACKS } from "../tools/stacks";
import { producedMetricNames } from "../lib/producedMetrics";
import { parsePromQL } from "./helpers/promql";
import { Claim, labelSelector, planClaims, pvcCommand } from "./helpers/claims";
import {
    blocks,
    configCommandsWithoutPath,
    configKeyPaths,
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

/**
 * Scripts the docs describe that another branch of the same batch adds (issue #18): allowed here until that branch is
 * merged, and refused once package.json has them, so that this list empties itself at the merge.
 */
const SCRIPTS_BEING_ADDED: Record<string, string> = {
    verify: "npm run verify -- <stack>, the post-deploy check (issue #18, \"A real check after pulumi up\"), built on its own branch",
};

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

/** The Node version a sentence of the README pins, and the one .ci/run installs. */
function nodeVersions(): { readme: string[]; ci: string } {
    const ci = /^NODE_VERSION=(\S+)$/m.exec(fs.readFileSync(path.join(ROOT, ".ci", "run"), "utf8"))?.[1] ?? "";
    const readme = [...fs.readFileSync(README, "utf8").matchAll(/Node\.js (\d+\.\d+\.\d+)/g)].map((m) => m[1]);
    return { readme, ci };
}

describe("operator docs (docs/ko) and README", () => {
    it("there are docs to check", () => {
        assert.ok(markdownFiles(DOCS).length >= 25, "docs/ko holds the guide and one runbook per alert");
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
    });

    it("every script a page names (npm run <script>) is in package.json", () => {
        for (const [script, why] of Object.entries(SCRIPTS_BEING_ADDED)) {
            assert.ok(!scripts.has(script), `package.json has ${script} now (${why}): remove it from SCRIPTS_BEING_ADDED`);
        }
        const missing = files.flatMap((f) => npmScripts(fs.readFileSync(f, "utf8")).filter((s) => !scripts.has(s) && !(s in SCRIPTS_BEING_ADDED)).map((s) => `${rel(f)}: npm run ${s}`));
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
        const { readme, ci } = nodeVersions();
        assert.ok(ci !== "" && readme.length > 0, "both name a version");
        assert.deepStrictEqual([...new Set(readme)], [ci]);
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

        it(`${rel(f)}: every relative link resolves`, () => {
            const broken: string[] = [];
            for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
                const target = m[1];
                if (/^[a-z]+:/.test(target) || target.startsWith("#")) continue;
                const file = path.resolve(path.dirname(f), decodeURIComponent(target.split("#")[0]));
                if (!fs.existsSync(file)) broken.push(target);
            }
            assert.deepStrictEqual(broken, [], `${rel(f)}: broken links`);
        });
    }
});
