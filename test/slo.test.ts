/**
 * Service levels (lib/slo.ts): the recording rules and burn-rate alerts the central Prometheus pair evaluates, run
 * through the real promtool: a firing and a silent case per alert, then the two properties multi-window burn-rate
 * alerting is for: a fast burn pages within minutes, a slow burn opens a ticket only once it has spent enough budget.
 */
import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { stringify } from "yaml";
import { runbookPath } from "../lib/alertRules";
import { SLO_ALERT_NAMES, SloAlertName } from "../lib/slo";
import { ROOT } from "../tools/plan";
import { manifest, one, planStack, tmpDir, tool } from "./helpers/plan";
import { AlertCases, assertCasesComplete, promtoolCheckRules, promtoolTestRules } from "./helpers/ruleTests";

async function sloGroup(): Promise<any> {
    const groups = manifest(one(await planStack("cluster-01"), "kubernetes:monitoring.coreos.com/v1:PrometheusRule", "-self-monitoring-rules")).spec.groups;
    return groups.find((g: any) => g.name === "agent-receiver-slo");
}

const RW = 'job="thanos-receive", pod="thanos-receive-0", handler="receive"';
const QF = 'job="thanos-query-frontend", pod="thanos-query-frontend-0", handler="query-frontend"';

/** Receive's write requests: `total` per minute, of which `errors` answered 500 (from the start of the case). */
function writes(total: number, errors: number): [string, string][] {
    return [
        [`http_requests_total{${RW}, code="200"}`, `0+${total - errors}x200`],
        [`http_requests_total{${RW}, code="500"}`, `0+${errors}x200`],
    ];
}
/** Query Frontend requests per minute, `slow` of them over 1 s. */
function queries(total: number, slow: number): [string, string][] {
    const b = (le: string, v: number): [string, string] => [`http_request_duration_seconds_bucket{${QF}, le="${le}"}`, `0+${v}x200`];
    return [b("0.6", total - slow), b("1", total - slow), b("3", total), b("+Inf", total), [`http_request_duration_seconds_count{${QF}}`, `0+${total}x200`]];
}

/**
 * From the start (promtool has no history, so every window sees the same ratio): fast cases at 10 % errors or slow
 * queries, slow cases at 4 times the budget rate (fast stays silent), silent cases within budget.
 */
const CASES: Record<SloAlertName, AlertCases> = {
    RemoteWriteBudgetBurnFast: { firing: { series: writes(1000, 100), at: "15m", labels: {} }, silent: { series: writes(1000, 0), at: "15m" } },
    // 0.2 % errors: 4 times the 0.05 % budget rate.
    RemoteWriteBudgetBurnSlow: { firing: { series: writes(10000, 20), at: "30m", labels: {} }, silent: { series: writes(10000, 2), at: "30m" } },
    QueryLatencyBudgetBurnFast: { firing: { series: queries(100, 20), at: "15m", labels: {} }, silent: { series: queries(100, 0), at: "15m" } },
    // 4 % slow: 4 times the 1 % budget rate.
    QueryLatencyBudgetBurnSlow: { firing: { series: queries(100, 4), at: "30m", labels: {} }, silent: { series: queries(1000, 5), at: "30m" } },
};

/** A promtool test over days: samples every 5 minutes, rules evaluated every 5 minutes, only the SLO group loaded. */
function scenario(group: any, input: [string, string][], checks: { at: string; alert: SloAlertName; fires: boolean; severity?: string }[]): void {
    const dir = tmpDir("slo-");
    const bare = { groups: [{ ...group, rules: group.rules.map((r: any) => Object.fromEntries(Object.entries(r).filter(([k]) => k !== "annotations"))) }] };
    fs.writeFileSync(path.join(dir, "slo.yaml"), stringify(bare, { lineWidth: 0 }));
    const tests = [
        {
            interval: "5m",
            input_series: input.map(([series, values]) => ({ series, values })),
            alert_rule_test: checks.map((c) => ({ eval_time: c.at, alertname: c.alert, exp_alerts: c.fires ? [{ exp_labels: { severity: c.severity } }] : [] })),
        },
    ];
    fs.writeFileSync(path.join(dir, "tests.yaml"), stringify({ rule_files: ["slo.yaml"], evaluation_interval: "5m", tests }, { lineWidth: 0 }));
    try {
        execFileSync(tool("promtool"), ["test", "rules", "tests.yaml"], { cwd: dir, stdio: "pipe" });
    } catch (e) {
        const err = e as { stdout?: Buffer; stderr?: Buffer };
        assert.fail(`promtool test rules failed:\n${err.stdout}\n${err.stderr}`);
    }
}

/** Three days of healthy writes (864 samples at 5 minutes: the longest window), then `errorsPer5m` of 1000 fail. */
function afterThreeHealthyDays(errorsPer5m: number): [string, string][] {
    return [
        [`http_requests_total{${RW}, code="200"}`, `0+1000x864 864000+${1000 - errorsPer5m}x400`],
        [`http_requests_total{${RW}, code="500"}`, `0x864 0+${errorsPer5m}x400`],
    ];
}

describe("Service levels (recording rules and burn-rate alerts of the central Prometheus pair)", () => {
    let group: any;
    before(async () => {
        group = await sloGroup();
    });

    it("the group passes the real promtool check rules: 15 recordings and 4 alerts", () => {
        assert.match(promtoolCheckRules(stringify({ groups: [group] }, { lineWidth: 0 })), /SUCCESS: 19 rules found/);
        assert.deepStrictEqual(group.rules.filter((r: any) => r.alert).map((r: any) => r.alert), [...SLO_ALERT_NAMES]);
    });

    it("pages at 14.4 and 6 times the budget rate, tickets at 3 and 1, each long window paired with a short one", () => {
        const expr = (a: string) => group.rules.find((r: any) => r.alert === a).expr as string;
        assert.strictEqual(
            expr("RemoteWriteBudgetBurnFast"),
            "(slo:remote_write_errors:ratio_rate1h > 0.0072 and slo:remote_write_errors:ratio_rate5m > 0.0072) or (slo:remote_write_errors:ratio_rate6h > 0.003 and slo:remote_write_errors:ratio_rate30m > 0.003)",
        );
        assert.strictEqual(
            expr("QueryLatencyBudgetBurnSlow"),
            "(slo:query_slow:ratio_rate1d > 0.03 and slo:query_slow:ratio_rate2h > 0.03) or (slo:query_slow:ratio_rate3d > 0.01 and slo:query_slow:ratio_rate6h > 0.01)",
        );
        // The latency SLI counts requests under the 1 s bucket: Thanos has none at 1.2 s.
        assert.match(group.rules.find((r: any) => r.record === "slo:query_slow:ratio_rate5m").expr, /le="1"/);
    });

    it("every alert has a firing and a silent case, and a runbook", () => {
        assertCasesComplete(SLO_ALERT_NAMES, CASES, []);
        const missing = SLO_ALERT_NAMES.map(runbookPath).filter((p) => !fs.existsSync(path.join(ROOT, p)));
        assert.deepStrictEqual(missing, []);
    });

    it("promtool test rules: each alert fires from its synthetic series and stays silent when healthy", () => {
        promtoolTestRules({ groups: [group] }, SLO_ALERT_NAMES, CASES);
    });

    it("a fast burn (10 % of writes failing after three healthy days) pages within 15 minutes; the slow alert stays quiet", () => {
        const onset = 72 * 60;
        scenario(group, afterThreeHealthyDays(100), [
            { at: `${onset + 15}m`, alert: "RemoteWriteBudgetBurnFast", fires: true, severity: "critical" },
            { at: `${onset + 15}m`, alert: "RemoteWriteBudgetBurnSlow", fires: false },
        ]);
    });

    it("a slow burn (0.2 %, 4 times the budget rate, after three healthy days) never pages, and tickets only once it spent enough budget (about 18 h)", () => {
        const onset = 72;
        scenario(group, afterThreeHealthyDays(2), [
            { at: `${onset + 2}h`, alert: "RemoteWriteBudgetBurnFast", fires: false },
            { at: `${onset + 2}h`, alert: "RemoteWriteBudgetBurnSlow", fires: false },
            { at: `${onset + 12}h`, alert: "RemoteWriteBudgetBurnSlow", fires: false },
            { at: `${onset + 20}h`, alert: "RemoteWriteBudgetBurnFast", fires: false },
            { at: `${onset + 20}h`, alert: "RemoteWriteBudgetBurnSlow", fires: true, severity: "warning" },
        ]);
    });
});
