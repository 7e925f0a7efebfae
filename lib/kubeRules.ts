/**
 * The Kubernetes essentials kube-prometheus ships (and this platform's chart turns off: its rules only see one
 * cluster), rebuilt for the platform's own workloads. One builder per alert, used twice: by the central Prometheus
 * for cluster-01 (`selfMonitoringRules.ts`, local series without a `cluster` label) and by the Ruler for the edges
 * (`alertRules.ts`, series that carry `cluster` and `tenant_id`). `selector` restricts the series (namespaces, and on
 * the global view the clusters); `by` names the labels that tell the places apart besides namespace.
 *
 * Jobs: kube-state-metrics and the kubelet are scraped as `kube-state-metrics` and `kubelet` on every cluster (the
 * edge agents' job names in lib/agentConfig.ts; the chart's ServiceMonitors on cluster-01).
 */
import type { AlertRule } from "./alertRules";

export const KSM_JOB = "kube-state-metrics";
export const KUBELET_JOB = "kubelet";

/** Free share of a volume below which a volume that is still filling is worth a warning (kube-prometheus: 15 %). */
export const VOLUME_FREE_WARNING = 0.15;
/** Free share below which a volume is full for practical purposes (a TSDB compaction needs room to write a block). */
export const VOLUME_FREE_CRITICAL = 0.05;

export type KubeWorkloadAlert = "PodCrashLooping" | "StatefulSetReplicasMismatch" | "VolumeFillingUp" | "VolumeFull" | "VolumeUsageUnknown";

/** Crash loops, StatefulSets short of replicas, and volumes, for the workloads and claims `selector` matches. */
export function kubeWorkloadRules(selector: string, by: string[]): Record<KubeWorkloadAlert, AlertRule> {
    const ksm = `job="${KSM_JOB}", ${selector}`;
    const kubelet = `job="${KUBELET_JOB}", ${selector}`;
    const pvc = [...by, "namespace", "persistentvolumeclaim"].join(", ");
    const sts = [...by, "namespace", "statefulset"].join(", ");
    const free = `min by (${pvc}) (kubelet_volume_stats_available_bytes{${kubelet}} / kubelet_volume_stats_capacity_bytes{${kubelet}})`;
    return {
        PodCrashLooping: {
            alert: "PodCrashLooping",
            expr: `max by (${[...by, "namespace", "pod", "container"].join(", ")}) (max_over_time(kube_pod_container_status_waiting_reason{${ksm}, reason="CrashLoopBackOff"}[5m])) >= 1`,
            for: "15m",
            severity: "warning",
            summary: "{{ $labels.namespace }}/{{ $labels.pod }} ({{ $labels.container }}) is crash-looping.",
            description: "The container keeps exiting and Kubernetes backs off restarting it: a bad flag or configuration, a volume it cannot use, or OOM at start.",
        },
        StatefulSetReplicasMismatch: {
            alert: "StatefulSetReplicasMismatch",
            // Fewer ready replicas than declared, and no rollout in progress (kube-prometheus' condition).
            expr:
                `(max by (${sts}) (kube_statefulset_status_replicas_ready{${ksm}}) != max by (${sts}) (kube_statefulset_replicas{${ksm}}))` +
                ` and on (${sts}) (max by (${sts}) (changes(kube_statefulset_status_replicas_updated{${ksm}}[10m])) == 0)`,
            for: "15m",
            severity: "warning",
            summary: "StatefulSet {{ $labels.namespace }}/{{ $labels.statefulset }} has fewer ready replicas than declared.",
            description: "A replica cannot be scheduled (node, volume, anti-affinity) or is not ready. Receive with one replica short runs without slack: one more loss breaks the write quorum.",
        },
        VolumeFillingUp: {
            alert: "VolumeFillingUp",
            expr:
                `${free} < ${VOLUME_FREE_WARNING}` +
                ` and on (${pvc}) min by (${pvc}) (predict_linear(kubelet_volume_stats_available_bytes{${kubelet}}[6h], 4 * 24 * 3600)) < 0`,
            for: "1h",
            severity: "warning",
            summary: "Volume {{ $labels.namespace }}/{{ $labels.persistentvolumeclaim }} has {{ $value | humanizePercentage }} free and fills within 4 days.",
            description: "At the current rate the volume is full within 4 days: Receive stops ingesting, the compactor halts, an agent loses its WAL backlog. Grow the volume (runbook) or cut what fills it.",
        },
        VolumeFull: {
            alert: "VolumeFull",
            expr: `${free} < ${VOLUME_FREE_CRITICAL}`,
            for: "5m",
            severity: "critical",
            summary: "Volume {{ $labels.namespace }}/{{ $labels.persistentvolumeclaim }} has only {{ $value | humanizePercentage }} free.",
            description: "A TSDB cannot cut or compact a block without free space: writes fail next. Grow the volume now (runbook).",
        },
        VolumeUsageUnknown: {
            alert: "VolumeUsageUnknown",
            // A claim the platform owns, minus those the kubelet reports: the two alerts above cannot fire for it.
            expr: `max by (${pvc}) (kube_persistentvolumeclaim_info{${ksm}}) unless on (${pvc}) max by (${pvc}) (kubelet_volume_stats_capacity_bytes{${kubelet}})`,
            for: "1h",
            severity: "info",
            summary: "No usage figures for volume {{ $labels.namespace }}/{{ $labels.persistentvolumeclaim }}.",
            description:
                "The kubelet reports volume stats only for volume types that measure themselves (CSI, local PVs); a hostPath PV such as local-path's default has none, and the volume alerts are blind to it. Watch the node's disk instead (runbook).",
        },
    };
}

/** More than a tenth of a job's targets down (kube-prometheus' TargetDown), per `by` and job. */
export function targetDownRule(selector: string, by: string[]): AlertRule {
    const keys = [...by, "job"].join(", ");
    const sel = selector ? `{${selector}}` : "";
    return {
        alert: "TargetDown",
        expr: `(count by (${keys}) (up${sel} == 0)) / (count by (${keys}) (up${sel})) > 0.1`,
        for: "10m",
        severity: "warning",
        summary: "{{ $value | humanizePercentage }} of the {{ $labels.job }} targets are down.",
        description: "Their metrics are missing from dashboards and alerts. A whole Thanos component down is ThanosComponentDown (which silences this one); a node's kubelet or exporter down, its node.",
    };
}
