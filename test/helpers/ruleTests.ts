/**
 * The rule-file checks every rule set shares: the real `promtool check rules`, and `promtool test rules` with a
 * firing case (the labels the alert must carry) and a healthy twin that keeps it silent, per alert.
 */
import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { stringify } from "yaml";
import { tmpDir, tool } from "./plan";

export interface Case {
    /** Series in promtool's notation; a function gets the writer ids of the real config. */
    series: [string, string][] | ((writers: string[]) => [string, string][]);
    at: string;
    /** Time between the input samples (default 1m); longer for cases over days, which promtool is slow to expand. */
    interval?: string;
}
export interface AlertCases {
    firing: Case & { labels: Record<string, string> };
    /** The healthy twin of `firing`: same shape, healthy values, no alert. */
    silent?: Case;
}

/** `promtool check rules` on the text; returns its output (which counts the rules). */
export function promtoolCheckRules(text: string): string {
    const dir = tmpDir("rules-");
    fs.writeFileSync(path.join(dir, "rules.yaml"), text);
    return execFileSync(tool("promtool"), ["check", "rules", path.join(dir, "rules.yaml")]).toString();
}

/**
 * `promtool test rules` of `rules` (the parsed rule file) with the cases of `names`. promtool compares annotations
 * too; those are templates checked by `check rules` and by the runbook test, so the unit tests run the same rules
 * (expr, for, labels) without annotations.
 */
export function promtoolTestRules(rules: { groups: any[] }, names: readonly string[], cases: Record<string, AlertCases>, writers: string[] = []): void {
    const withoutAnnotations = (r: any) => Object.fromEntries(Object.entries(r).filter(([k]) => k !== "annotations"));
    const bare = { groups: rules.groups.map((g: any) => ({ ...g, rules: g.rules.map(withoutAnnotations) })) };
    const severity = (alert: string) => rules.groups.flatMap((g: any) => g.rules).find((r: any) => r.alert === alert).labels.severity;
    const dir = tmpDir("rules-test-");
    fs.writeFileSync(path.join(dir, "rules.yaml"), stringify(bare, { lineWidth: 0 }));
    const seriesOf = (c: Case) => (typeof c.series === "function" ? c.series(writers) : c.series).map(([series, values]) => ({ series, values }));
    const tests = names.flatMap((a) => {
        const c = cases[a];
        const fire = {
            name: `${a} fires`,
            interval: c.firing.interval ?? "1m",
            input_series: seriesOf(c.firing),
            alert_rule_test: [{ eval_time: c.firing.at, alertname: a, exp_alerts: [{ exp_labels: { ...c.firing.labels, severity: severity(a) } }] }],
        };
        const quiet = c.silent
            ? [{ name: `${a} silent`, interval: c.silent.interval ?? "1m", input_series: seriesOf(c.silent), alert_rule_test: [{ eval_time: c.silent.at, alertname: a, exp_alerts: [] }] }]
            : [];
        return [fire, ...quiet];
    });
    fs.writeFileSync(path.join(dir, "tests.yaml"), stringify({ rule_files: ["rules.yaml"], evaluation_interval: "1m", tests }, { lineWidth: 0 }));
    try {
        execFileSync(tool("promtool"), ["test", "rules", "tests.yaml"], { cwd: dir, stdio: "pipe" });
    } catch (e) {
        const err = e as { stdout?: Buffer; stderr?: Buffer };
        assert.fail(`promtool test rules failed:\n${err.stdout}\n${err.stderr}`);
    }
}

/** Every alert has a firing case, and a silent case unless it is an always-firing watchdog. */
export function assertCasesComplete(names: readonly string[], cases: Record<string, AlertCases>, watchdogs: string[]): void {
    for (const a of names) {
        assert.ok(cases[a]?.firing, `${a}: no firing case`);
        if (!watchdogs.includes(a)) assert.ok(cases[a].silent, `${a}: no silent case`);
    }
}

/** Every alert of the group carries a severity, summary, description and a runbook link to a path in this repository. */
export function assertAnnotated(group: any, names: readonly string[], runbookPath: (alert: string) => string): void {
    const got = group.rules as any[];
    assert.deepStrictEqual(got.map((r) => r.alert), [...names]);
    for (const r of got) {
        assert.match(r.labels.severity, /^(critical|warning|info|none)$/, r.alert);
        assert.ok(r.annotations.summary && r.annotations.description, `${r.alert}: summary and description`);
        assert.strictEqual(r.annotations.runbook_url, runbookPath(r.alert), `${r.alert}: runbook link (runbookBaseUrl is empty in cluster-01)`);
        assert.match(r.annotations.runbook_url, /^docs\/ko\/runbooks\/[a-z0-9-]+\.md$/);
    }
}
