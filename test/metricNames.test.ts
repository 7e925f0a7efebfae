import * as assert from "assert";
import { DROP_LISTS } from "../lib/agentConfig";
import { PRODUCED_METRICS, producedMetricNames } from "../lib/producedMetrics";
import { all, manifest, one, planStack, yaml } from "./helpers/plan";
import { parsePromQL } from "./helpers/promql";

/** Every PromQL expression the platform ships: the ruler's rules, the central Prometheus' PrometheusRules and the dashboards' panel queries. */
async function shippedQueries(): Promise<{ where: string; expr: string }[]> {
    const plan = await planStack("cluster-01");
    const rules = yaml(manifest(one(plan, "kubernetes:core/v1:ConfigMap", "-ruler-rules")).data["platform.yaml"]);
    const local = all(plan, "kubernetes:monitoring.coreos.com/v1:PrometheusRule").flatMap((r) => manifest(r).spec.groups);
    const out = [...rules.groups, ...local].flatMap((g: any) => g.rules.map((r: any) => ({ where: `rule ${r.alert ?? r.record}`, expr: r.expr as string })));
    for (const cm of all(plan, "kubernetes:core/v1:ConfigMap").map(manifest).filter((m) => m.metadata.labels?.grafana_dashboard === "1")) {
        const d = JSON.parse(Object.values(cm.data)[0] as string);
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

    it("no metric a rule or dashboard uses is dropped by the edge agents' drop lists", async () => {
        const dropped = Object.values(DROP_LISTS).flat().map((p) => new RegExp(`^(?:${p})$`));
        const used = new Set((await shippedQueries()).flatMap((q) => parsePromQL(q.expr).metricNames));
        assert.deepStrictEqual([...used].filter((n) => dropped.some((re) => re.test(n))), []);
    });

    it("every produced metric list names its source", () => {
        for (const [k, s] of Object.entries(PRODUCED_METRICS)) {
            assert.ok(s.source.length > 10, k);
            assert.ok(s.names.length > 0, k);
        }
    });
});
