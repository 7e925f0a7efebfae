import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { MetricSource, PRODUCED_METRICS, producedMetricNames } from "../lib/producedMetrics";
import { charts, images } from "../lib/versions";
import { ROOT } from "../tools/plan";
import { HIGHEST_ENQUEUED_TIMESTAMP, remoteWriteLagOf } from "../scripts/lib/harness";
import { chartFolder } from "./helpers/charts";
import { all, manifest, one, planStack, yaml } from "./helpers/plan";
import { parsePromQL } from "./helpers/promql";
import { MetricDefinition, parseMetricsTxt, upstreamFile, upstreamFolder } from "./helpers/upstream";

/** The definitions kept for an exporter at a version (test/fixtures/upstream/<project>-<version>/metrics.txt). */
function definitions(project: string, version: string): Map<string, MetricDefinition> {
    const dir = upstreamFolder(
        project,
        version,
        "Add metrics.txt: for each name the platform reads, grep its definition in the exporter's source at that tag and record " +
            "name, file:line and how the name is formed (see the other folders' metrics.txt) — never copy the code.",
    );
    return parseMetricsTxt(upstreamFile(dir, "metrics.txt"), `${dir}/metrics.txt`);
}

/** Names of a produced-metrics list its exporter's pinned version does not define. */
function undefinedNames(s: MetricSource): string[] {
    if (!s.exporter) return [];
    const defs = definitions(s.exporter.project, s.exporter.version);
    return s.names.filter((n) => !defs.has(n)).map((n) => `${n}: not defined by ${s.exporter!.project} ${s.exporter!.version} (metrics.txt)`);
}

/** The PromQL blocks of the operator docs (runbooks, cookbook) and the README. */
function docQueries(): { where: string; expr: string }[] {
    const md = (dir: string): string[] =>
        fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? md(path.join(dir, e.name)) : e.name.endsWith(".md") ? [path.join(dir, e.name)] : []));
    return [...md(path.join(ROOT, "docs", "ko")), path.join(ROOT, "README.md")].flatMap((f) =>
        [...fs.readFileSync(f, "utf8").matchAll(/^```promql\s*\n([\s\S]*?)^```/gm)].map((m) => ({ where: path.relative(ROOT, f), expr: m[1].trim() })),
    );
}

/** Metric names deprecated at their exporter's pinned version: name → the definition's note (and where). */
function deprecatedNames(): Map<string, string> {
    const out = new Map<string, string>();
    for (const s of Object.values(PRODUCED_METRICS)) {
        if (!s.exporter) continue;
        for (const d of definitions(s.exporter.project, s.exporter.version).values()) {
            if (d.deprecated) out.set(d.name, `${s.exporter.project} ${s.exporter.version} ${d.source}: ${d.note}`);
        }
    }
    return out;
}

/** Uses of deprecated metrics in queries, as `where: name (why)` lines. */
function deprecatedUses(queries: { where: string; expr: string }[], deprecated: Map<string, string>): string[] {
    return queries.flatMap((q) => parsePromQL(q.expr).metricNames.filter((n) => deprecated.has(n)).map((n) => `${q.where}: ${n} (${deprecated.get(n)})`));
}

/** Debian's Prometheus, which npm test, the e2e run and the bench run (scripts/ensure-tools.sh). */
const DEBIAN_PROMETHEUS = "v2.42.0";

/** The Prometheus metric names the scripts read (`"prometheus_…"` literals in scripts/), with the file. */
function scriptMetricNames(): { where: string; name: string }[] {
    const ts = (dir: string): string[] =>
        fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? ts(path.join(dir, e.name)) : e.name.endsWith(".ts") ? [path.join(dir, e.name)] : []));
    return ts(path.join(ROOT, "scripts")).flatMap((f) => [...fs.readFileSync(f, "utf8").matchAll(/"(prometheus_[a-z0-9_]+)"/g)].map((m) => ({ where: path.relative(ROOT, f), name: m[1] })));
}

/**
 * Names the scripts read that Debian's Prometheus does not define. The per-queue enqueued timestamp is allowed as
 * the newer half of HIGHEST_ENQUEUED_TIMESTAMP (read when exposed, the deprecated half otherwise), provided the
 * pinned version defines it and Debian's defines the other half.
 */
function undefinedForScripts(uses: { where: string; name: string }[]): string[] {
    const debian = definitions("prometheus", DEBIAN_PROMETHEUS);
    const pinned = definitions("prometheus", PRODUCED_METRICS.prometheusAgent.exporter!.version);
    const fallback = (n: string) => n === HIGHEST_ENQUEUED_TIMESTAMP.current && pinned.has(n) && debian.has(HIGHEST_ENQUEUED_TIMESTAMP.deprecated);
    return uses.filter((u) => !debian.has(u.name) && !fallback(u.name)).map((u) => `${u.where}: ${u.name} is not defined by Debian's Prometheus ${DEBIAN_PROMETHEUS}`);
}

/** A chart's appVersion, the version of what it runs when the image tag is left to it. */
function appVersion(chart: { chart: string; version: string }): string {
    return parse(upstreamFile(chartFolder(chart.chart, chart.version), "Chart.yaml")).appVersion as string;
}

/** Every PromQL expression the platform ships: the ruler's rules, the central Prometheus' PrometheusRules and the dashboards' panel queries. */
async function shippedQueries(): Promise<{ where: string; expr: string }[]> {
    const plan = await planStack("cluster-01");
    const rules = yaml(manifest(one(plan, "kubernetes:core/v1:ConfigMap", "-ruler-rules")).data["platform.yaml"]);
    const local = all(plan, "kubernetes:monitoring.coreos.com/v1:PrometheusRule").flatMap((r) => manifest(r).spec.groups);
    const out = [...rules.groups, ...local].flatMap((g: any) => g.rules.map((r: any) => ({ where: `rule ${r.alert ?? r.record}`, expr: r.expr as string })));
    for (const json of Object.values(manifest(one(plan, "kubernetes:core/v1:ConfigMap", "-monitoring-dashboards")).data) as string[]) {
        const d = JSON.parse(json);
        for (const p of d.panels) for (const t of p.targets) out.push({ where: `${d.title} / ${p.title}`, expr: t.expr });
    }
    return out;
}

describe("metric names used by rules and dashboards", () => {
    it("the extractor finds names, including one misspelt, and reports syntax errors", () => {
        const p = parsePromQL('sum by (tenant) (rate(thanos_receive_replications_totl{result="error"}[$__rate_interval])) / on() up');
        assert.deepStrictEqual(p.metricNames.sort(), ["thanos_receive_replications_totl", "up"]);
        assert.ok(!producedMetricNames().has("thanos_receive_replications_totl"));
        assert.ok(parsePromQL("sum(rate(x[5m])").errors.length > 0);
    });

    it("every query parses and uses only metrics the platform produces (lib/producedMetrics.ts)", async () => {
        const produced = producedMetricNames();
        const queries = await shippedQueries();
        assert.ok(queries.length > 40, `only ${queries.length} queries found`);
        const problems: string[] = [];
        for (const q of queries) {
            const p = parsePromQL(q.expr);
            problems.push(...p.errors.map((e) => `${q.where}: ${e}`));
            if (p.metricNames.length === 0 && !/vector\(/.test(q.expr)) problems.push(`${q.where}: no metric`);
            problems.push(...p.metricNames.filter((n) => !produced.has(n)).map((n) => `${q.where}: "${n}" is not produced by the platform`));
        }
        assert.deepStrictEqual(problems, []);
    });

    it("every produced metric list names its source, and its exporter's version or why it has none", () => {
        for (const [k, s] of Object.entries(PRODUCED_METRICS)) {
            assert.ok(s.source.length > 10, k);
            assert.ok(s.names.length > 0, k);
            assert.ok((s.exporter !== undefined) !== (s.unpinned !== undefined), `${k}: an exporter version, or the reason for none`);
        }
    });
});

describe("metric names against the pinned exporters' definitions", () => {
    it("a name the exporter's list does not define is reported (so the check below can fail)", () => {
        const typo: MetricSource = { source: "x", names: ["thanos_receive_replications_total", "thanos_receive_replication_total"], exporter: PRODUCED_METRICS.thanosReceive.exporter };
        assert.deepStrictEqual(undefinedNames(typo), [`thanos_receive_replication_total: not defined by thanos ${PRODUCED_METRICS.thanosReceive.exporter!.version} (metrics.txt)`]);
        // The new queue metric is defined at the pinned Prometheus 3 and not at Debian's 2.42.
        assert.ok(definitions("prometheus", images.prometheus.tag).has("prometheus_remote_storage_queue_highest_timestamp_seconds"));
        assert.ok(!definitions("prometheus", "v2.42.0").has("prometheus_remote_storage_queue_highest_timestamp_seconds"));
    });

    it("versions taken from a chart's appVersion match the pinned chart", () => {
        assert.strictEqual(PRODUCED_METRICS.kubeStateMetrics.exporter!.version, `v${appVersion(charts.kubeStateMetrics)}`);
        assert.strictEqual(PRODUCED_METRICS.fluentBit.exporter!.version, `v${appVersion(charts.fluentBit)}`);
        assert.strictEqual(PRODUCED_METRICS.nodeExporter.exporter!.version, `v${appVersion(charts.nodeExporter)}`);
    });

    it("a query using a deprecated metric is reported (so the check below can fail)", () => {
        const deprecated = new Map([["old_metric_seconds", "x"]]);
        assert.deepStrictEqual(deprecatedUses([{ where: "w", expr: "max(old_metric_seconds) - max(new_metric_seconds)" }], deprecated), ["w: old_metric_seconds (x)"]);
        // The fixture marks one: Prometheus' global highest timestamp, superseded by the per-queue metric in v3.7.0.
        assert.ok(deprecatedNames().has("prometheus_remote_storage_highest_timestamp_in_seconds"));
    });

    it("no rule, dashboard or runbook query uses a metric its exporter deprecates at the pinned version", async () => {
        const queries = [...(await shippedQueries()), ...docQueries()];
        assert.ok(queries.length > 60, `${queries.length} queries`);
        assert.deepStrictEqual(deprecatedUses(queries, deprecatedNames()), []);
    });

    it("a script reading a name Debian's Prometheus lacks is reported, unless it is the newer half of the fallback (so the check below can fail)", () => {
        assert.deepStrictEqual(undefinedForScripts([{ where: "s", name: "prometheus_remote_storage_samples_sent_total" }]), [
            `s: prometheus_remote_storage_samples_sent_total is not defined by Debian's Prometheus ${DEBIAN_PROMETHEUS}`,
        ]);
        assert.deepStrictEqual(undefinedForScripts([{ where: "s", name: HIGHEST_ENQUEUED_TIMESTAMP.current }]), []);
    });

    it("the bench's remote-write lag reads the per-queue metric where it exists and the deprecated one on 2.42", () => {
        const q = '{remote_name="a",url="u"}';
        // Prometheus >= 3.7: both metrics, per queue; the deprecated global gauge is not used.
        const v314 = [`${HIGHEST_ENQUEUED_TIMESTAMP.current}${q} 1000`, `prometheus_remote_storage_queue_highest_sent_timestamp_seconds${q} 940`, `${HIGHEST_ENQUEUED_TIMESTAMP.deprecated} 5000`].join("\n");
        assert.strictEqual(remoteWriteLagOf(v314), 60);
        // Debian's 2.42: the global gauge only.
        const v242 = [`${HIGHEST_ENQUEUED_TIMESTAMP.deprecated} 1000`, `prometheus_remote_storage_queue_highest_sent_timestamp_seconds${q} 990`].join("\n");
        assert.strictEqual(remoteWriteLagOf(v242), 10);
        assert.throws(() => remoteWriteLagOf("up 1"), /exposes neither/);
    });

    it("every Prometheus metric the e2e run and the bench read is defined by the Prometheus they run (Debian's 2.42)", () => {
        const uses = scriptMetricNames();
        // The bench reads its metrics in scripts/lib/benchAgents.ts and benchFiltering.ts.
        assert.ok(uses.some((u) => /bench(Agents|Filtering)?\.ts$/.test(u.where)) && uses.some((u) => u.where.endsWith("e2e.ts")), uses.map((u) => u.where).join());
        assert.deepStrictEqual(undefinedForScripts(uses), []);
    });

    for (const [k, s] of Object.entries(PRODUCED_METRICS)) {
        if (!s.exporter) continue;
        it(`${k}: every name is defined by ${s.exporter.project} ${s.exporter.version} (metrics.txt names the upstream file:line)`, () => {
            assert.deepStrictEqual(undefinedNames(s), []);
        });
    }
});
