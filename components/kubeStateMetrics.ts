import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { charts, pinnedChartArgs } from "../lib/versions";

export interface KubeStateMetricsArgs {
    readonly namespace: pulumi.Input<string>;
    /** Plain namespace name (for the Service address). */
    readonly namespaceName: string;
    /** Tenant this instance serves: it then watches only `namespaces`, with namespaced Roles. */
    readonly tenant?: string;
    readonly namespaces: string[];
    readonly nodeSelector?: Record<string, string>;
    readonly tolerations?: k8s.types.input.core.v1.Toleration[];
    readonly registryMirror?: string;
    readonly imagePullSecrets?: { name: string }[];
}

/** Collectors a tenant instance may run: namespaced objects only (nodes, PVs and the like are cluster-wide). */
export const NAMESPACED_COLLECTORS = [
    "cronjobs",
    "daemonsets",
    "deployments",
    "horizontalpodautoscalers",
    "jobs",
    "limitranges",
    "persistentvolumeclaims",
    "poddisruptionbudgets",
    "pods",
    "resourcequotas",
    "services",
    "statefulsets",
];

export function kubeStateMetricsName(tenant?: string): string {
    return tenant ? `kube-state-metrics-${tenant}` : "kube-state-metrics";
}

export function kubeStateMetricsValues(a: Omit<KubeStateMetricsArgs, "namespace" | "namespaceName">): Record<string, unknown> {
    const values: Record<string, unknown> = {
        fullnameOverride: kubeStateMetricsName(a.tenant),
        image: a.registryMirror ? { registry: `${a.registryMirror}/registry.k8s.io` } : {},
        imagePullSecrets: a.imagePullSecrets ?? [],
        resources: { requests: { cpu: "20m", memory: "64Mi" }, limits: { memory: "256Mi" } },
        // Scraped by the agent's static target, not through the Prometheus Operator.
        prometheusScrape: false,
        nodeSelector: a.nodeSelector ?? {},
        tolerations: a.tolerations ?? [],
    };
    if (a.tenant) {
        values.namespaces = a.namespaces.join(",");
        values.collectors = NAMESPACED_COLLECTORS;
        // Roles in the tenant's namespaces instead of a ClusterRole: it cannot see the other tenant.
        values.rbac = { useClusterRole: false };
    }
    return values;
}

/** kube-state-metrics (official chart, pinned): cluster-wide, or one per tenant limited to its namespaces. */
export class KubeStateMetrics extends pulumi.ComponentResource {
    /** `host:port` the agent scrapes. */
    public readonly address: string;

    constructor(name: string, args: KubeStateMetricsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("agent-receiver:edge:KubeStateMetrics", name, {}, opts);
        this.address = `${kubeStateMetricsName(args.tenant)}.${args.namespaceName}.svc.cluster.local:8080`;
        new k8s.helm.v4.Chart(
            `${name}-chart`,
            pinnedChartArgs(charts.kubeStateMetrics, args.namespace, kubeStateMetricsValues(args)),
            { parent: this },
        );
        this.registerOutputs({ address: this.address });
    }
}
