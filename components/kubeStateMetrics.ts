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
    /** Resources that put the labels `nodeSelector` names on the nodes (a tenant's node patches); the chart waits for them. Default: none. */
    readonly nodeLabels?: pulumi.Resource[];
    readonly registryMirror?: string;
    readonly imagePullSecrets?: { name: string }[];
    /** Who may scrape this instance (its own agent only). */
    readonly scrapers: k8s.types.input.networking.v1.NetworkPolicyPeer[];
    /** CiliumNetworkPolicy egress rules: the API server it lists from. */
    readonly entityEgress: Record<string, unknown>[];
}

/** The port kube-state-metrics serves its metrics on (chart value `service.port`, container port `http`). */
export const KUBE_STATE_METRICS_PORT = 8080;

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

/**
 * Labels the chart puts on its pods (`kube-state-metrics.selectorLabels` in the chart's templates/_helpers.tpl):
 * the chart name and the Helm release name, which for a `helm.v4.Chart` without `name` is the Chart resource's name.
 * The instance label tells the tenants' instances apart.
 */
export function kubeStateMetricsPodLabels(releaseName: string): Record<string, string> {
    return { "app.kubernetes.io/name": "kube-state-metrics", "app.kubernetes.io/instance": releaseName };
}

/** The Helm release name of the instance named `componentName` (its chart resource's name). */
export function kubeStateMetricsReleaseName(componentName: string): string {
    return `${componentName}-chart`;
}

export function kubeStateMetricsValues(a: Omit<KubeStateMetricsArgs, "namespace" | "namespaceName" | "scrapers" | "entityEgress" | "nodeLabels">): Record<string, unknown> {
    const values: Record<string, unknown> = {
        fullnameOverride: kubeStateMetricsName(a.tenant),
        image: a.registryMirror ? { registry: `${a.registryMirror}/registry.k8s.io` } : {},
        imagePullSecrets: a.imagePullSecrets ?? [],
        resources: { requests: { cpu: "20m", memory: "64Mi" }, limits: { memory: "256Mi" } },
        // Scraped by the agent's static target, not through the Prometheus Operator.
        prometheusScrape: false,
        // No kube_secret_* series (the agents would drop them anyway) and, above all, no list/watch on Secrets: the
        // chart's default collectors include `secrets`, which puts that rule in its role (templates/role.yaml).
        collectorsExclude: ["secrets"],
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

/**
 * kube-state-metrics (official chart, pinned): cluster-wide, or one per tenant limited to its namespaces. Its
 * network: it lists from the API server (a Cilium entity rule) and is scraped by `scrapers` only.
 */
export class KubeStateMetrics extends pulumi.ComponentResource {
    /** `host:port` the agent scrapes. */
    public readonly address: string;
    /** Labels of this instance's pods (name and release), for policies that must tell instances apart. */
    public readonly podLabels: Record<string, string>;

    constructor(name: string, args: KubeStateMetricsArgs, opts?: pulumi.ComponentResourceOptions) {
        super("agent-receiver:edge:KubeStateMetrics", name, {}, opts);
        this.address = `${kubeStateMetricsName(args.tenant)}.${args.namespaceName}.svc.cluster.local:${KUBE_STATE_METRICS_PORT}`;
        const releaseName = kubeStateMetricsReleaseName(name);
        this.podLabels = kubeStateMetricsPodLabels(releaseName);
        const { scrapers, entityEgress, nodeLabels, ...chartArgs } = args;
        new k8s.helm.v4.Chart(releaseName, pinnedChartArgs(charts.kubeStateMetrics, args.namespace, kubeStateMetricsValues(chartArgs)), {
            parent: this,
            dependsOn: nodeLabels,
        });
        const objectName = kubeStateMetricsName(args.tenant);
        new k8s.networking.v1.NetworkPolicy(
            `${name}-netpol`,
            {
                metadata: { name: objectName, namespace: args.namespace },
                spec: {
                    podSelector: { matchLabels: this.podLabels },
                    policyTypes: ["Ingress"],
                    ingress: [{ from: scrapers, ports: [{ protocol: "TCP", port: KUBE_STATE_METRICS_PORT }] }],
                },
            },
            { parent: this },
        );
        new k8s.apiextensions.CustomResource(
            `${name}-apiserver`,
            { apiVersion: "cilium.io/v2", kind: "CiliumNetworkPolicy", metadata: { name: `${objectName}-apiserver`, namespace: args.namespace }, spec: { endpointSelector: { matchLabels: this.podLabels }, egress: entityEgress } },
            { parent: this },
        );
        this.registerOutputs({ address: this.address });
    }
}
