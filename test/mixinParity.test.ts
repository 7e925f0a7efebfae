/**
 * Parity with the Thanos mixin at the pinned version: every alert the Thanos project ships for its own components
 * (examples/alerts/alerts.yaml, kept as a fixture) is present here in intent, possibly renamed or retuned, or listed
 * with the reason it does not apply. A new mixin alert after an upgrade fails this test until it is accounted for.
 */
import * as assert from "assert";
import { parse } from "yaml";
import { ALERT_NAMES } from "../lib/alertRules";
import { SELF_MONITORING_ALERT_NAMES } from "../lib/selfMonitoringRules";
import { images } from "../lib/versions";
import { all, manifest, one, planStack } from "./helpers/plan";
import { parsePromQL } from "./helpers/promql";
import { upstreamFile, upstreamFolder } from "./helpers/upstream";

type Ours = (typeof ALERT_NAMES)[number] | (typeof SELF_MONITORING_ALERT_NAMES)[number];

/**
 * Each mixin alert: the alerts of ours that carry its intent (`why` when they read other metrics than the mixin's,
 * which the metric check below then does not require), or `na`: why it does not apply to this platform.
 */
type Parity = { ours: Ours[]; why?: string } | { na: string };

const NO_SIDECAR = "no Thanos Sidecar: every Prometheus remote-writes to Receive (agents and the central pair alike)";
const NO_REPLICATE = "no `thanos tools bucket replicate`: one bucket, backed up as described in docs/ko/backup-restore.md";

const PARITY: Record<string, Parity> = {
    ThanosCompactMultipleRunning: {
        na: "the compactor is a StatefulSet fixed at one replica (components/thanosCompactor.ts), so the program cannot run two; a compactor elsewhere on the same bucket would not be scraped here either",
    },
    ThanosCompactHalted: { ours: ["CompactorHalted"] },
    ThanosCompactHighCompactionFailures: { ours: ["CompactionsFailing"] },
    ThanosCompactBucketHighOperationFailures: { ours: ["BucketOperationsFailing"] },
    ThanosCompactHasNotRun: { ours: ["CompactorNotRunning"] },
    ThanosQueryHttpRequestQueryErrorRateHigh: { ours: ["QueryErrors"] },
    ThanosQueryHttpRequestQueryRangeErrorRateHigh: { ours: ["QueryErrors"] },
    ThanosQueryGrpcServerErrorRate: { ours: ["ThanosGrpcErrors"] },
    ThanosQueryGrpcClientErrorRate: { ours: ["QueryStoreRequestsFailing"] },
    ThanosQueryHighDNSFailures: {
        ours: ["ThanosDnsLookupsFailing"],
        why: "the mixin's thanos_query_store_apis_dns_* is not defined by Query at v0.42.4: its DNS provider registers with the prefix thanos_query_endpoints_ (cmd/thanos/endpointset.go:334), which ours reads",
    },
    // Retuned: the 99th percentile users see at the Query Frontend, against the configured SLO, not Query's 40/90 s.
    ThanosQueryInstantLatencyHigh: { ours: ["QueryLatencySLO"] },
    ThanosQueryRangeLatencyHigh: { ours: ["QueryLatencySLO"] },
    ThanosQueryOverload: { ours: ["QueryOverloaded"] },
    ThanosReceiveHttpRequestErrorRateHigh: { ours: ["ReceiveHttpErrors"] },
    ThanosReceiveHttpRequestLatencyHigh: { ours: ["ReceiveLatencyHigh"] },
    ThanosReceiveHighReplicationFailures: { ours: ["ReceiveReplicationFailing"] },
    ThanosReceiveHighForwardRequestFailures: {
        ours: ["ReceiveReplicationFailing"],
        why: "Receive runs without routers (one ketama ring of ingesters), so every forward is a replication to a peer: the replication errors are the forward errors (the mixin's alert is severity info)",
    },
    ThanosReceiveHighHashringFileRefreshFailures: { ours: ["ReceiveHashringReloadFailing"] },
    ThanosReceiveConfigReloadFailure: { ours: ["ReceiveHashringReloadFailing"] },
    ThanosReceiveNoUpload: { ours: ["ReceiveNotUploading"] },
    ThanosReceiveLimitsConfigReloadFailure: { ours: ["ReceiveLimitsReloadFailing"] },
    ThanosReceiveLimitsHighMetaMonitoringQueriesFailureRate: { ours: ["ReceiveMetaMonitoringFailing"] },
    ThanosReceiveTenantLimitedByHeadSeries: { ours: ["ReceiveTenantLimited"] },
    ThanosSidecarBucketOperationsFailed: { na: NO_SIDECAR },
    ThanosSidecarNoConnectionToStartedPrometheus: { na: NO_SIDECAR },
    ThanosStoreGrpcErrorRate: { ours: ["ThanosGrpcErrors"] },
    ThanosStoreSeriesGateLatencyHigh: {
        ours: ["QueryLatencySLO", "QueryOverloaded"],
        why: "a full series gate is felt as query latency, which the platform alerts on where users see it (the Query Frontend) and as Query's own gate filling; the Store's series latency is on the Query dashboard",
    },
    ThanosStoreBucketHighOperationFailures: { ours: ["BucketOperationsFailing"] },
    ThanosStoreObjstoreOperationLatencyHigh: { ours: ["BucketOperationsSlow"] },
    ThanosRuleQueueIsDroppingAlerts: { ours: ["RulerDroppingAlerts"] },
    ThanosRuleSenderIsFailingAlerts: { ours: ["RulerDroppingAlerts"] },
    ThanosRuleHighRuleEvaluationFailures: { ours: ["RulerEvaluationFailing"] },
    ThanosRuleHighRuleEvaluationWarnings: {
        ours: ["QueryStoreRequestsFailing", "ThanosComponentDown"],
        why: "an evaluation warning is a partial response: a StoreAPI behind Query did not answer; those alerts name the store that failed",
    },
    ThanosRuleRuleEvaluationLatencyHigh: { ours: ["RulerEvaluationSlow"] },
    ThanosRuleGrpcErrorRate: { ours: ["ThanosGrpcErrors"] },
    ThanosRuleConfigReloadFailure: {
        ours: ["PodCrashLooping"],
        why: "the Ruler never reloads: its rules are a mounted ConfigMap and a change rolls the pods (rules-sha256 annotation); a file it cannot load stops it at start. promtool checks the file before it is deployed",
    },
    ThanosRuleQueryHighDNSFailures: { ours: ["ThanosDnsLookupsFailing"] },
    ThanosRuleAlertmanagerHighDNSFailures: { ours: ["ThanosDnsLookupsFailing"] },
    ThanosRuleNoEvaluationFor10Intervals: { ours: ["RulerNotEvaluating"] },
    ThanosNoRuleEvaluations: { ours: ["RulerNotEvaluating"] },
    ThanosBucketReplicateErrorRate: { na: NO_REPLICATE },
    ThanosBucketReplicateRunLatency: { na: NO_REPLICATE },
    ThanosCompactIsDown: { ours: ["ThanosComponentDown"] },
    ThanosQueryIsDown: { ours: ["ThanosComponentDown"] },
    ThanosReceiveIsDown: { ours: ["ThanosComponentDown"] },
    ThanosRuleIsDown: { ours: ["ThanosComponentDown"] },
    ThanosSidecarIsDown: { na: NO_SIDECAR },
    ThanosStoreIsDown: { ours: ["ThanosComponentDown"] },
};

interface MixinAlert {
    readonly alert: string;
    readonly expr: string;
}

function mixinAlerts(): MixinAlert[] {
    const dir = upstreamFolder("thanos", images.thanos.tag, "Copy examples/alerts/alerts.yaml of thanos-io/thanos at the tag as mixin-alerts.yaml.");
    const doc = parse(upstreamFile(dir, "mixin-alerts.yaml")) as { groups: { rules: MixinAlert[] }[] };
    return doc.groups.flatMap((g) => g.rules).filter((r) => r.alert);
}

/** Every alert the platform ships (Ruler and central Prometheus), with its expression, from the cluster-01 plan. */
async function ourAlerts(): Promise<Map<string, string>> {
    const plan = await planStack("cluster-01");
    const ruler = parse(manifest(one(plan, "kubernetes:core/v1:ConfigMap", "-ruler-rules")).data["platform.yaml"]).groups;
    const local = all(plan, "kubernetes:monitoring.coreos.com/v1:PrometheusRule").flatMap((r) => manifest(r).spec.groups);
    return new Map([...ruler, ...local].flatMap((g: any) => g.rules).filter((r: any) => r.alert).map((r: any) => [r.alert, r.expr]));
}

describe(`Thanos mixin parity (thanos ${images.thanos.tag} examples/alerts/alerts.yaml)`, () => {
    it("the fixture holds the mixin's alerts (so the checks below have something to check)", () => {
        const names = mixinAlerts().map((a) => a.alert);
        assert.ok(names.length >= 40, `${names.length} alerts`);
        assert.ok(names.includes("ThanosReceiveNoUpload") && names.includes("ThanosNoRuleEvaluations"));
    });

    it("every mixin alert is accounted for, and the table names no alert the mixin lacks", () => {
        const names = mixinAlerts().map((a) => a.alert);
        assert.deepStrictEqual(names.filter((n) => !(n in PARITY)), [], "mixin alerts with no entry in PARITY: map them to ours or say why they do not apply");
        assert.deepStrictEqual(Object.keys(PARITY).filter((n) => !names.includes(n)), [], "PARITY entries for alerts the mixin does not have (renamed upstream?)");
    });

    it("every alert the table names exists in a shipped rule set", async () => {
        const ours = await ourAlerts();
        const missing = Object.entries(PARITY).flatMap(([m, p]) => ("ours" in p ? p.ours.filter((o) => !ours.has(o)).map((o) => `${m} → ${o}`) : []));
        assert.deepStrictEqual(missing, []);
    });

    it("an alert of ours that stands for a mixin alert reads the same signal (one of its metrics), unless the table says why not", async () => {
        const ours = await ourAlerts();
        const problems: string[] = [];
        for (const m of mixinAlerts()) {
            const p = PARITY[m.alert];
            if (!p || !("ours" in p) || p.why) continue;
            const theirs = new Set(parsePromQL(m.expr).metricNames);
            const shared = p.ours.flatMap((o) => parsePromQL(ours.get(o) ?? "").metricNames).filter((n) => theirs.has(n));
            if (shared.length === 0) problems.push(`${m.alert} (${[...theirs].join(", ")}) → ${p.ours.join(", ")}: no metric in common`);
        }
        assert.deepStrictEqual(problems, []);
    });

    it("the check above can fail: an alert on another signal is caught", () => {
        const theirs = new Set(parsePromQL('sum(rate(thanos_shipper_uploads_total{job=~".*thanos-receive.*"}[3h]))').metricNames);
        assert.deepStrictEqual(parsePromQL("sum(rate(thanos_shipper_upload_failures_total[30m])) > 0").metricNames.filter((n) => theirs.has(n)), []);
    });
});
