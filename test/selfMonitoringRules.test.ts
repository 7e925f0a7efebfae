import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { stringify } from "yaml";
import { ALERTMANAGER_JOB, THANOS_JOBS } from "../components/centralMonitoring";
import { runbookPath } from "../lib/alertRules";
import { SELF_MONITORING_ALERT_NAMES, SelfMonitoringAlertName } from "../lib/selfMonitoringRules";
import { ROOT } from "../tools/plan";
import { all, manifest, one, planStack } from "./helpers/plan";
import { AlertCases, assertAnnotated, assertCasesComplete, promtoolCheckRules, promtoolTestRules } from "./helpers/ruleTests";

const PROMETHEUS_RULE = "kubernetes:monitoring.coreos.com/v1:PrometheusRule";

/** The PrometheusRule's groups as the central Prometheus loads them (the operator writes `spec` as a rule file). */
async function ruleFile(): Promise<{ groups: any[] }> {
    const r = manifest(one(await planStack("cluster-01"), PROMETHEUS_RULE, "-self-monitoring-rules"));
    return { groups: r.spec.groups };
}

const KSM = 'job="kube-state-metrics"';
const KUBELET = 'job="kubelet", instance="192.168.101.21:10250", node="node-1"';
const PVC = 'namespace="thanos", persistentvolumeclaim="data-thanos-receive-0"';
const RULER = 'job="thanos-ruler", pod="thanos-ruler-0"';
const QUERY = 'job="thanos-query", pod="thanos-query-0"';
const AM = 'job="kps-alertmanager", namespace="monitoring", pod="alertmanager-kps-alertmanager-0"';
const GRPC = 'grpc_service="thanos.Store", grpc_method="Series", grpc_type="server_stream"';
const up = (job: string, pod: string, v: string): [string, string] => [`up{job="${job}", namespace="thanos", pod="${pod}"}`, v];

/**
 * For every self-monitoring alert: local series (no `cluster` label: Prometheus adds it only to what leaves it) that
 * make it fire, and a healthy twin.
 */
const CASES: Record<SelfMonitoringAlertName, AlertCases> = {
    SelfMonitoringWatchdog: { firing: { series: [], at: "1m", labels: {} } },
    ThanosComponentDown: {
        firing: {
            series: [...THANOS_JOBS.map((j) => up(j, `${j}-0`, j === "thanos-query" ? "0x20" : "1x20")), up("thanos-query", "thanos-query-1", "0x20")],
            at: "10m",
            labels: { job: "thanos-query" },
        },
        // One Query replica down of two: the component still answers (StatefulSet/Deployment alerts cover the replica).
        silent: { series: [...THANOS_JOBS.map((j) => up(j, `${j}-0`, "1x20")), up("thanos-query", "thanos-query-1", "0x20")], at: "10m" },
    },
    PodCrashLooping: {
        firing: {
            series: [[`kube_pod_container_status_waiting_reason{${KSM}, namespace="thanos", pod="thanos-ruler-0", container="thanos-ruler", reason="CrashLoopBackOff"}`, "1x30"]],
            at: "25m",
            labels: { namespace: "thanos", pod: "thanos-ruler-0", container: "thanos-ruler" },
        },
        silent: { series: [[`kube_pod_container_status_waiting_reason{${KSM}, namespace="thanos", pod="thanos-ruler-0", container="thanos-ruler", reason="ContainerCreating"}`, "1x30"]], at: "25m" },
    },
    StatefulSetReplicasMismatch: {
        firing: {
            series: [
                [`kube_statefulset_status_replicas_ready{${KSM}, namespace="thanos", statefulset="thanos-receive"}`, "2x30"],
                [`kube_statefulset_replicas{${KSM}, namespace="thanos", statefulset="thanos-receive"}`, "3x30"],
                [`kube_statefulset_status_replicas_updated{${KSM}, namespace="thanos", statefulset="thanos-receive"}`, "3x30"],
            ],
            at: "25m",
            labels: { namespace: "thanos", statefulset: "thanos-receive" },
        },
        silent: {
            series: [
                [`kube_statefulset_status_replicas_ready{${KSM}, namespace="thanos", statefulset="thanos-receive"}`, "3x30"],
                [`kube_statefulset_replicas{${KSM}, namespace="thanos", statefulset="thanos-receive"}`, "3x30"],
                [`kube_statefulset_status_replicas_updated{${KSM}, namespace="thanos", statefulset="thanos-receive"}`, "3x30"],
            ],
            at: "25m",
        },
    },
    TargetDown: {
        // One Store Gateway of two: the component answers, the target is down.
        firing: { series: [up("thanos-store", "thanos-store-0", "1x20"), up("thanos-store", "thanos-store-1", "0x20")], at: "15m", labels: { namespace: "thanos", job: "thanos-store" } },
        silent: { series: [up("thanos-store", "thanos-store-0", "1x20"), up("thanos-store", "thanos-store-1", "1x20")], at: "15m" },
    },
    ReceiveHttpErrors: {
        firing: {
            series: [
                [`http_requests_total{job="thanos-receive", pod="thanos-receive-0", handler="receive", code="500"}`, "0+10x30"],
                [`http_requests_total{job="thanos-receive", pod="thanos-receive-0", handler="receive", code="200"}`, "0+90x30"],
            ],
            at: "20m",
            labels: { job: "thanos-receive" },
        },
        silent: {
            series: [
                [`http_requests_total{job="thanos-receive", pod="thanos-receive-0", handler="receive", code="500"}`, "0x30"],
                [`http_requests_total{job="thanos-receive", pod="thanos-receive-0", handler="receive", code="200"}`, "0+90x30"],
            ],
            at: "20m",
        },
    },
    RulerNotEvaluating: {
        // Rules loaded, evaluations stopped (the counter stays flat).
        firing: {
            series: [
                [`prometheus_rule_evaluations_total{${RULER}, rule_group="/etc/thanos/rules/platform.yaml;agent-receiver-platform"}`, "0x30"],
                [`thanos_rule_loaded_rules{${RULER}, file="/etc/thanos/rules/platform.yaml", group="agent-receiver-platform"}`, "20x30"],
            ],
            at: "20m",
            labels: { pod: "thanos-ruler-0" },
        },
        silent: {
            series: [
                [`prometheus_rule_evaluations_total{${RULER}, rule_group="/etc/thanos/rules/platform.yaml;agent-receiver-platform"}`, "0+40x30"],
                [`thanos_rule_loaded_rules{${RULER}, file="/etc/thanos/rules/platform.yaml", group="agent-receiver-platform"}`, "20x30"],
            ],
            at: "20m",
        },
    },
    RulerEvaluationFailing: {
        // Query down: every evaluation fails.
        firing: {
            series: [
                [`prometheus_rule_evaluations_total{${RULER}, rule_group="g"}`, "0+40x30"],
                [`prometheus_rule_evaluation_failures_total{${RULER}, rule_group="g"}`, "0+40x30"],
            ],
            at: "20m",
            labels: { pod: "thanos-ruler-0" },
        },
        silent: {
            series: [
                [`prometheus_rule_evaluations_total{${RULER}, rule_group="g"}`, "0+40x30"],
                [`prometheus_rule_evaluation_failures_total{${RULER}, rule_group="g"}`, "0x30"],
            ],
            at: "20m",
        },
    },
    RulerDroppingAlerts: {
        firing: { series: [[`thanos_alert_sender_alerts_dropped_total{${RULER}}`, "0+1x30"], [`thanos_alert_queue_alerts_dropped_total{${RULER}}`, "0x30"]], at: "20m", labels: { pod: "thanos-ruler-0" } },
        silent: { series: [[`thanos_alert_sender_alerts_dropped_total{${RULER}}`, "0x30"], [`thanos_alert_queue_alerts_dropped_total{${RULER}}`, "0x30"]], at: "20m" },
    },
    RulerEvaluationSlow: {
        firing: {
            series: [
                [`prometheus_rule_group_last_duration_seconds{${RULER}, rule_group="g"}`, "45x20"],
                [`prometheus_rule_group_interval_seconds{${RULER}, rule_group="g"}`, "30x20"],
            ],
            at: "10m",
            labels: { pod: "thanos-ruler-0", rule_group: "g" },
        },
        silent: {
            series: [
                [`prometheus_rule_group_last_duration_seconds{${RULER}, rule_group="g"}`, "2x20"],
                [`prometheus_rule_group_interval_seconds{${RULER}, rule_group="g"}`, "30x20"],
            ],
            at: "10m",
        },
    },
    QueryErrors: {
        firing: {
            series: [
                [`http_requests_total{${QUERY}, handler="query_range", code="503"}`, "0+10x30"],
                [`http_requests_total{${QUERY}, handler="query_range", code="200"}`, "0+90x30"],
            ],
            at: "20m",
            labels: { job: "thanos-query", handler: "query_range" },
        },
        silent: {
            series: [
                [`http_requests_total{${QUERY}, handler="query_range", code="503"}`, "0x30"],
                [`http_requests_total{${QUERY}, handler="query_range", code="200"}`, "0+90x30"],
            ],
            at: "20m",
        },
    },
    QueryStoreRequestsFailing: {
        firing: {
            series: [
                [`grpc_client_handled_total{${QUERY}, ${GRPC}, grpc_code="Unavailable"}`, "0+5x30"],
                [`grpc_client_handled_total{${QUERY}, ${GRPC}, grpc_code="OK"}`, "0+45x30"],
                [`grpc_client_started_total{${QUERY}, ${GRPC}}`, "0+50x30"],
            ],
            at: "20m",
            labels: { job: "thanos-query" },
        },
        silent: {
            series: [
                [`grpc_client_handled_total{${QUERY}, ${GRPC}, grpc_code="Unavailable"}`, "0x30"],
                [`grpc_client_handled_total{${QUERY}, ${GRPC}, grpc_code="OK"}`, "0+50x30"],
                [`grpc_client_started_total{${QUERY}, ${GRPC}}`, "0+50x30"],
            ],
            at: "20m",
        },
    },
    QueryOverloaded: {
        firing: {
            series: [
                [`thanos_query_concurrent_gate_queries_max{${QUERY}}`, "20x30"],
                [`thanos_query_concurrent_gate_queries_in_flight{${QUERY}}`, "20x30"],
            ],
            at: "25m",
            labels: { pod: "thanos-query-0" },
        },
        silent: {
            series: [
                [`thanos_query_concurrent_gate_queries_max{${QUERY}}`, "20x30"],
                [`thanos_query_concurrent_gate_queries_in_flight{${QUERY}}`, "3x30"],
            ],
            at: "25m",
        },
    },
    ThanosGrpcErrors: {
        firing: {
            series: [
                [`grpc_server_handled_total{job="thanos-store", pod="thanos-store-0", ${GRPC}, grpc_code="Internal"}`, "0+10x30"],
                [`grpc_server_started_total{job="thanos-store", pod="thanos-store-0", ${GRPC}}`, "0+100x30"],
            ],
            at: "20m",
            labels: { job: "thanos-store" },
        },
        // The same share of client errors (NotFound) is not the server failing.
        silent: {
            series: [
                [`grpc_server_handled_total{job="thanos-store", pod="thanos-store-0", ${GRPC}, grpc_code="NotFound"}`, "0+10x30"],
                [`grpc_server_started_total{job="thanos-store", pod="thanos-store-0", ${GRPC}}`, "0+100x30"],
            ],
            at: "20m",
        },
    },
    ThanosDnsLookupsFailing: {
        firing: {
            series: [
                [`thanos_query_endpoints_dns_failures_total{${QUERY}}`, "0+1x30"],
                [`thanos_query_endpoints_dns_lookups_total{${QUERY}}`, "0+10x30"],
            ],
            at: "25m",
            labels: { job: "thanos-query" },
        },
        silent: {
            series: [
                [`thanos_query_endpoints_dns_failures_total{${QUERY}}`, "0x30"],
                [`thanos_query_endpoints_dns_lookups_total{${QUERY}}`, "0+10x30"],
            ],
            at: "25m",
        },
    },
    VolumeFillingUp: {
        // 14 % free and losing 0.01 % a minute: empty within a day; the trend needs two samples, then `for` 1h.
        // Samples every 5 minutes.
        firing: {
            series: [
                [`kubelet_volume_stats_available_bytes{${KUBELET}, ${PVC}}`, "14-0.05x20"],
                [`kubelet_volume_stats_capacity_bytes{${KUBELET}, ${PVC}}`, "100x20"],
            ],
            at: "75m",
            interval: "5m",
            labels: { namespace: "thanos", persistentvolumeclaim: "data-thanos-receive-0" },
        },
        // As full, but steady: nothing to predict.
        silent: {
            series: [
                [`kubelet_volume_stats_available_bytes{${KUBELET}, ${PVC}}`, "14x20"],
                [`kubelet_volume_stats_capacity_bytes{${KUBELET}, ${PVC}}`, "100x20"],
            ],
            at: "75m",
            interval: "5m",
        },
    },
    VolumeFull: {
        firing: {
            series: [
                [`kubelet_volume_stats_available_bytes{${KUBELET}, ${PVC}}`, "4x20"],
                [`kubelet_volume_stats_capacity_bytes{${KUBELET}, ${PVC}}`, "100x20"],
            ],
            at: "10m",
            labels: { namespace: "thanos", persistentvolumeclaim: "data-thanos-receive-0" },
        },
        silent: {
            series: [
                [`kubelet_volume_stats_available_bytes{${KUBELET}, ${PVC}}`, "10x20"],
                [`kubelet_volume_stats_capacity_bytes{${KUBELET}, ${PVC}}`, "100x20"],
            ],
            at: "10m",
        },
    },
    VolumeUsageUnknown: {
        // local-path's default hostPath volumes: the claim exists, the kubelet reports nothing for it.
        firing: {
            series: [[`kube_persistentvolumeclaim_info{${KSM}, ${PVC}, storageclass="local-path", volumename="pvc-1"}`, "1x100"]],
            at: "90m",
            labels: { namespace: "thanos", persistentvolumeclaim: "data-thanos-receive-0" },
        },
        silent: {
            series: [
                [`kube_persistentvolumeclaim_info{${KSM}, ${PVC}, storageclass="local-path", volumename="pvc-1"}`, "1x100"],
                [`kubelet_volume_stats_capacity_bytes{${KUBELET}, ${PVC}}`, "100x100"],
            ],
            at: "90m",
        },
    },
    AlertmanagerNotificationsFailing: {
        firing: {
            series: [
                [`alertmanager_notifications_failed_total{${AM}, integration="webhook", reason="other"}`, "0+1x30"],
                [`alertmanager_notifications_total{${AM}, integration="webhook"}`, "0+10x30"],
            ],
            at: "20m",
            labels: { integration: "webhook" },
        },
        silent: {
            series: [
                [`alertmanager_notifications_failed_total{${AM}, integration="webhook", reason="other"}`, "0x30"],
                [`alertmanager_notifications_total{${AM}, integration="webhook"}`, "0+10x30"],
            ],
            at: "20m",
        },
    },
    AlertmanagerClusterDegraded: {
        // cluster-01 declares two replicas; this one sees only itself.
        firing: { series: [[`alertmanager_cluster_members{${AM}}`, "1x30"]], at: "25m", labels: { pod: "alertmanager-kps-alertmanager-0" } },
        silent: { series: [[`alertmanager_cluster_members{${AM}}`, "2x30"]], at: "25m" },
    },
    CertificateExpiringSoon: {
        // Beside the recorded series (the plan's certificates, years ahead of promtool's clock at 0): one that ends
        // 600000 s (under 7 days) after it. min by certificate takes the nearer.
        firing: { series: [[`agent_receiver_certificate_expiry_timestamp_seconds{certificate="logs-node", source="test"}`, "600000x10"]], at: "5m", labels: { certificate: "logs-node" } },
        silent: { series: [[`agent_receiver_certificate_expiry_timestamp_seconds{certificate="logs-node", source="test"}`, "5000000x10"]], at: "5m" },
    },
};

describe("Self-monitoring rules (central Prometheus pair, independent of Query and Receive)", () => {
    let rules: { groups: any[] };
    before(async () => {
        rules = await ruleFile();
    });

    it("the PrometheusRule's groups pass the real promtool check rules", () => {
        const count = rules.groups.flatMap((g) => g.rules).length;
        assert.ok(count > SELF_MONITORING_ALERT_NAMES.length, "the alerts and the certificates' recording rules");
        assert.match(promtoolCheckRules(stringify(rules, { lineWidth: 0 })), new RegExp(`SUCCESS: ${count} rules found`));
    });

    it("every alert has a severity, summary, description and a runbook link; the runbooks exist", () => {
        assertAnnotated(rules.groups[0], SELF_MONITORING_ALERT_NAMES, runbookPath);
        const missing = SELF_MONITORING_ALERT_NAMES.map(runbookPath).filter((p) => !fs.existsSync(path.join(ROOT, p)));
        assert.deepStrictEqual(missing, [], "runbooks missing under docs/ko/runbooks/");
    });

    it("every alert has a firing case and (except the watchdog) a silent case below", () => {
        assertCasesComplete(SELF_MONITORING_ALERT_NAMES, CASES, ["SelfMonitoringWatchdog"]);
    });

    it("promtool test rules: each alert fires from its synthetic series and stays silent when healthy", () => {
        promtoolTestRules(rules, SELF_MONITORING_ALERT_NAMES, CASES);
    });

    it("a broken rule makes promtool test rules fail (the test above can fail)", () => {
        const broken = JSON.parse(JSON.stringify(rules).replace("thanos_alert_sender_alerts_dropped_total{", "thanos_alert_sender_alerts_droped_total{"));
        assert.throws(() => promtoolTestRules(broken, ["RulerDroppingAlerts"], CASES), /promtool test rules failed/);
    });

    it("the central Prometheus loads the PrometheusRule and sends to the program's Alertmanager (chart values)", async () => {
        const plan = await planStack("cluster-01");
        const pr = manifest(one(plan, PROMETHEUS_RULE, "-self-monitoring-rules"));
        assert.strictEqual(pr.metadata.namespace, "monitoring");
        const kps = manifest(all(plan, "kubernetes:helm.sh/v4:Chart").find((r) => r.name.endsWith("-kube-prometheus-stack"))!).values;
        const p = kps.prometheus.prometheusSpec;
        // templates/prometheus/prometheus.yaml: ruleSelector {} when it is empty and ruleSelectorNilUsesHelmValues is
        // false (else `release: kps`, which this object does not carry); ruleNamespaceSelector {} = every namespace.
        assert.strictEqual(p.ruleSelectorNilUsesHelmValues, false);
        assert.ok(p.ruleSelector === undefined && p.ruleNamespaceSelector === undefined, "no selector narrows the rules the Prometheus loads");
        // alertingEndpoints empty and alertmanager.enabled: the Prometheus sends to <fullname>-alertmanager, the
        // Alertmanager whose configuration is the program's Secret.
        assert.ok(p.alertingEndpoints === undefined && kps.alertmanager.enabled !== false, "the Prometheus sends to this release's Alertmanager");
        assert.ok(kps.prometheus.prometheusSpec.additionalAlertManagerConfigs === undefined);
        // The jobs the rules read come from the chart's own ServiceMonitors: kubelet and kube-state-metrics stay on.
        assert.ok(kps.kubelet?.enabled !== false && kps.kubeStateMetrics?.enabled !== false);
    });

    it("selects only jobs the central Prometheus produces (PodMonitors and the chart's ServiceMonitors)", async () => {
        const plan = await planStack("cluster-01");
        const podMonitorJobs = all(plan, "kubernetes:monitoring.coreos.com/v1:PodMonitor").flatMap((r) => manifest(r).spec.selector.matchExpressions[0].values as string[]);
        const known = [...podMonitorJobs, "kubelet", "kube-state-metrics", ALERTMANAGER_JOB];
        const text = JSON.stringify(rules);
        for (const m of text.matchAll(/job=\\"([^"\\]+)\\"/g)) assert.ok(known.includes(m[1]), `job="${m[1]}" is produced by no PodMonitor or chart ServiceMonitor`);
        for (const m of text.matchAll(/job=~\\"([^"\\]+)\\"/g)) for (const j of m[1].split("|")) assert.ok(known.includes(j), `job "${j}"`);
    });
});
