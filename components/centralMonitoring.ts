import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { RuleGroup } from "../lib/alertRules";
import type { Resources } from "../lib/config";
import { Dashboard, dashboardJson } from "../lib/dashboards";
import { nonEmptyTo, resourceRequirements } from "../lib/k8s";
import { generationName } from "../lib/rotation";
import { TENANT_LABEL, THANOS_PORTS } from "../lib/thanos";
import { OPENSEARCH_EXPORTER_NAME } from "./openSearchExporter";
import { charts, pinnedChartArgs } from "../lib/versions";

type Peer = k8s.types.input.networking.v1.NetworkPolicyPeer;

export interface CentralMonitoringArgs {
    /** The monitoring namespace (a PlatformNamespace: default deny, restricted). */
    readonly namespace: pulumi.Input<string>;
    readonly namespaceName: string;
    readonly cluster: string;
    readonly storageClass: string;
    readonly imagePullSecrets?: { name: string }[];
    /** Site registry mirror (`images.registryMirror`): every image the chart runs is pulled as `<mirror>/<registry>/…`. */
    readonly registryMirror?: string;
    readonly prometheus: { replicas: number; retention: string; storageSize: string; resources: Resources };
    readonly alertmanager: { replicas: number; storageSize: string };
    /** Rotation generation of the Grafana admin password (`central.rotation.grafanaAdmin`). */
    readonly grafanaAdminPasswordGeneration?: number;
    /** The rendered Alertmanager configuration (holds webhook URLs: a secret). */
    readonly alertmanagerConfig: pulumi.Input<string>;
    /** Receive's in-cluster remote-write URL and this cluster's writer credential. */
    readonly remoteWrite: { url: string; caCertPem: pulumi.Input<string>; certPem: pulumi.Input<string>; keyPem: pulumi.Input<string> };
    /** Query Frontend URL: Grafana's only datasource. */
    readonly queryFrontendUrl: string;
    readonly grafanaHostname: string;
    readonly dashboards: Dashboard[];
    /** The Prometheus pair's own rule groups (`selfMonitoringRuleGroups`): alerts that must not depend on Query or Receive. */
    readonly selfMonitoringRules: pulumi.Input<RuleGroup[]>;
    /** Namespaces whose platform pods the central Prometheus scrapes with PodMonitors (the Thanos namespace). */
    readonly thanosNamespace: string;
    /** Namespace of this cluster's Fluent Bit (scraped for log delivery errors). */
    readonly logShipperNamespace: string;
    /** Namespace of OpenSearch and its metrics exporter. */
    readonly logStoreNamespace: string;
    /** Who sends alerts to Alertmanager (the Ruler, the Prometheus pair). */
    readonly alertSenders: Peer[];
    /** Query Frontend pods (Grafana's egress). */
    readonly queryFrontend: Peer[];
    /** Who scrapes the chart's own workloads (the Prometheus pair). */
    readonly metricsScrapers: Peer[];
    /** Where Alertmanager's webhooks are (CIDRs): its only egress outside the cluster. */
    readonly webhookCidrs: string[];
    /**
     * Metric relabelling (Prometheus Operator form) of the chart's kubelet, cAdvisor and kube-state-metrics
     * ServiceMonitors: the keep-lists and series rules of lib/agentConfig.ts `centralInfraRelabelings`.
     */
    readonly infraRelabelings: { readonly kubelet: unknown[]; readonly cadvisor: unknown[]; readonly kubeStateMetrics: unknown[] };
    /** The CiliumNetworkPolicy egress rules (entities: API server, nodes) of the chart's workloads that need them. */
    readonly entityEgress: Partial<Record<keyof typeof CENTRAL_POD_LABELS, Record<string, unknown>[]>>;
}

/** Release name: fixes the names the chart derives (`kps-prometheus`, `alertmanager-kps-alertmanager`). */
export const KPS_RELEASE = "kps";
/** The chart's Alertmanager ServiceMonitor names the job after the Service, `<fullname>-alertmanager` (as its own rules select it). */
export const ALERTMANAGER_JOB = `${KPS_RELEASE}-alertmanager`;
/** The grafana subchart names its Service `<release>-grafana` (it has no fullnameOverride value). */
export const GRAFANA_SERVICE = `${KPS_RELEASE}-grafana`;

/**
 * Labels on the pods of kube-prometheus-stack 88.5.3 (release `kps`, `fullnameOverride: kps`), as the charts and the
 * Prometheus Operator v0.93 put them, for policies that must tell the workloads apart:
 * - Prometheus and Alertmanager: the operator's selector labels (pkg/prometheus/server/operator.go makeSelectorLabels,
 *   pkg/alertmanager/operator.go makeSelectorLabels): name `prometheus`/`alertmanager`, instance = the custom
 *   resource's name `<fullname>-prometheus`/`<fullname>-alertmanager` (templates/_helpers.tpl of the chart).
 * - Grafana: the grafana chart's selector labels (templates/_helpers.tpl `grafana.selectorLabels`): name, release.
 * - The operator: templates/prometheus-operator/deployment.yaml's pod labels (`app.kubernetes.io/name`, `release`).
 * - kube-state-metrics: its chart's selector labels (name, release).
 */
export const CENTRAL_POD_LABELS = {
    prometheus: { "app.kubernetes.io/name": "prometheus", "app.kubernetes.io/instance": `${KPS_RELEASE}-prometheus` },
    alertmanager: { "app.kubernetes.io/name": "alertmanager", "app.kubernetes.io/instance": `${KPS_RELEASE}-alertmanager` },
    grafana: { "app.kubernetes.io/name": "grafana", "app.kubernetes.io/instance": KPS_RELEASE },
    operator: { "app.kubernetes.io/name": "kube-prometheus-stack-prometheus-operator", release: KPS_RELEASE },
    kubeStateMetrics: { "app.kubernetes.io/name": "kube-state-metrics", "app.kubernetes.io/instance": KPS_RELEASE },
} as const;

/** The ConfigMap with the platform's dashboards, mounted into Grafana by its file provider. */
export const GRAFANA_DASHBOARDS_CONFIGMAP = "grafana-dashboards";
const DASHBOARD_PROVIDER = "platform";

/** Kubernetes-style names of the chart's workloads, for the objects that concern one of them. */
const CHART_WORKLOAD_NAMES: Record<keyof typeof CENTRAL_POD_LABELS, string> = {
    prometheus: "prometheus",
    alertmanager: "alertmanager",
    grafana: "grafana",
    operator: "prometheus-operator",
    kubeStateMetrics: "kube-state-metrics",
};

/**
 * The operator's metrics port: `http` 8080 with `prometheusOperator.tls.enabled: false` (set below); with TLS it
 * would be `https` 10250 (templates/prometheus-operator/deployment.yaml).
 */
export const OPERATOR_METRICS_PORT = 8080;

/** Alertmanager's cluster gossip port (TCP and UDP) between its replicas. */
export const ALERTMANAGER_MESH_PORT = 9094;
export const GRAFANA_ADMIN_SECRET = "grafana-admin";
export const REMOTE_WRITE_TLS_SECRET = "remote-write-tls";
export const ALERTMANAGER_PORT = 9093;
export const GRAFANA_PORT = 3000;
/** Label that tells the two central Prometheus replicas apart; Thanos Query deduplicates on it. */
export const PROMETHEUS_REPLICA_LABEL = "prometheus_replica";
/** Jobs of the platform's own pods are named after the pod's `app.kubernetes.io/name` (the rules rely on it). */
export const JOB_LABEL = "app.kubernetes.io/name";
export const COMPONENT_LABEL = "app.kubernetes.io/component";
export const THANOS_JOBS = ["thanos-receive", "thanos-query", "thanos-query-frontend", "thanos-store", "thanos-compact", "thanos-ruler"];
/**
 * The exporter labels its series with the OpenSearch cluster's name as `cluster`. External labels never overwrite
 * a series' own label, so those series would reach Receive with cluster="opensearch-cluster" instead of this
 * cluster's name, and every rule that groups by cluster would miss them: keep the name as `opensearch_cluster`.
 */
export const OPENSEARCH_METRIC_RELABELINGS = [
    { sourceLabels: ["cluster"], targetLabel: "opensearch_cluster", action: "replace" },
    { regex: "cluster", action: "labeldrop" },
];
/** Datasource uid the dashboards refer to. */
export const THANOS_DATASOURCE_UID = "thanos";

const CRD_CHART_VALUES = {
    // Only the CRDs: every component of the chart off.
    crds: { enabled: true },
    defaultRules: { create: false },
    alertmanager: { enabled: false },
    grafana: { enabled: false },
    kubeStateMetrics: { enabled: false },
    nodeExporter: { enabled: false },
    prometheusOperator: { enabled: false },
    prometheus: { enabled: false },
    kubernetesServiceMonitors: { enabled: false },
};

/**
 * Requests and memory limits of the chart workloads whose chart default is none (kube-prometheus-stack 88.5.3
 * values.yaml: `prometheusOperator.resources`, `prometheusOperator.prometheusConfigReloader.resources`, `grafana.resources`,
 * `kube-state-metrics.resources` are `{}`): without
 * them the scheduler places them as if they cost nothing and the node's memory pressure evicts them first. The
 * figures are kube-prometheus' own (prometheus-operator/kube-prometheus manifests/*-deployment.yaml: operator and
 * Grafana 100m/100Mi with a 200Mi limit, kube-state-metrics 10m/190Mi with a 250Mi limit), without their CPU limits (no
 * CPU limit anywhere in this program: throttling hurts latency more than it protects neighbours). Grafana gets more
 * (128Mi request, 400Mi limit): kube-prometheus' figure is for Grafana 9.2, this chart runs Grafana 12 with the
 * platform's dashboards. Not measured here (no cluster): PlatformContainerOOMKilled and PodCrashLooping say when a
 * limit is too low.
 */
export const CHART_WORKLOAD_RESOURCES = {
    operator: { requests: { cpu: "100m", memory: "100Mi" }, limits: { memory: "200Mi" } },
    grafana: { requests: { cpu: "100m", memory: "128Mi" }, limits: { memory: "400Mi" } },
    kubeStateMetrics: { requests: { cpu: "10m", memory: "190Mi" }, limits: { memory: "250Mi" } },
    /** The same as the edge agents' reloader (components/prometheusAgent.ts). */
    configReloader: { requests: { cpu: "10m", memory: "32Mi" }, limits: { memory: "50Mi" } },
} as const;

/** Helm values of kube-prometheus-stack for the central cluster (checked against the pinned chart's defaults). */
export function kubePrometheusStackValues(a: CentralMonitoringArgs): Record<string, unknown> {
    const pvc = (size: string) => ({
        volumeClaimTemplate: { spec: { storageClassName: a.storageClass, accessModes: ["ReadWriteOnce"], resources: { requests: { storage: size } } } },
    });
    const secretKey = (key: string) => ({ secret: { name: REMOTE_WRITE_TLS_SECRET, key } });
    // Through the site mirror, each image under the path of its upstream registry (the chart's default registry of
    // that image; `global.imageRegistry` would put every image under one registry). Nothing is set without a mirror.
    const mirror = (registry: string) => (a.registryMirror ? { image: { registry: `${a.registryMirror}/${registry}` } } : {});
    return {
        fullnameOverride: KPS_RELEASE,
        // CRDs come from a separate, protected chart instance: a v4 Chart deletes the CRDs it owns with it.
        crds: { enabled: false },
        // The platform's rules run in Thanos Ruler on the global view; the chart's rules would only see cluster-01.
        defaultRules: { create: false },
        global: { imagePullSecrets: a.imagePullSecrets ?? [] },
        alertmanager: {
            // Alertmanager and its config reloader read mounted files only: no API token in the pod.
            serviceAccount: { automountServiceAccountToken: false },
            alertmanagerSpec: {
                ...mirror("quay.io"),
                automountServiceAccountToken: false,
                replicas: a.alertmanager.replicas,
                // The configuration is the program's (a Secret below): the chart's example config is not rendered.
                useExistingSecret: true,
                podAntiAffinity: "hard",
                storage: pvc(a.alertmanager.storageSize),
                resources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { memory: "256Mi" } },
            },
        },
        prometheus: {
            prometheusSpec: {
                ...mirror("quay.io"),
                replicas: a.prometheus.replicas,
                replicaExternalLabelName: PROMETHEUS_REPLICA_LABEL,
                // As on the agents: a resharding during a Receive outage waits for Receive instead of dropping its
                // in-flight batch after Prometheus' default 1m. 2h: about what the WAL holds, beyond which the
                // backlog is gone anyway.
                additionalArgs: [{ name: "storage.remote.flush-deadline", value: "2h" }],
                externalLabels: { cluster: a.cluster },
                retention: a.prometheus.retention,
                storageSpec: pvc(a.prometheus.storageSize),
                resources: resourceRequirements(a.prometheus.resources),
                podAntiAffinity: "hard",
                // Pick up every ServiceMonitor/PodMonitor, not only those labelled with this release.
                serviceMonitorSelectorNilUsesHelmValues: false,
                podMonitorSelectorNilUsesHelmValues: false,
                ruleSelectorNilUsesHelmValues: false,
                // cluster-01 writes to Receive like every edge: with its own client certificate, so the global view
                // (and the ruler) holds all four clusters.
                remoteWrite: [
                    {
                        url: a.remoteWrite.url,
                        tlsConfig: { ca: secretKey("ca.crt"), cert: secretKey("tls.crt"), keySecret: { name: REMOTE_WRITE_TLS_SECRET, key: "tls.key" } },
                        queueConfig: { capacity: 10000, maxShards: 10, maxSamplesPerSend: 2000, retryOnRateLimit: true },
                        writeRelabelConfigs: [{ action: "labeldrop", regex: TENANT_LABEL }],
                    },
                ],
            },
        },
        grafana: {
            ...mirror("docker.io"),
            // The chart's dashboards query the local Prometheus; the platform's dashboards are provisioned below.
            defaultDashboardsEnabled: false,
            admin: { existingSecret: GRAFANA_ADMIN_SECRET, userKey: "admin-user", passwordKey: "admin-password" },
            // Grafana reads its datasource and dashboards from files the chart mounts, never from the API server: no
            // sidecar, no RBAC, no service-account token in the pod. With a sidecar on (kube-prometheus-stack turns
            // the dashboards and datasources sidecars on), the grafana chart's templates/clusterrole.yaml grants
            // get/list/watch on configmaps AND secrets in every namespace, and `rbac.namespaced` would only narrow it
            // to the namespace, still with secrets (templates/role.yaml): Grafana is the exposed UI.
            sidecar: { dashboards: { enabled: false }, datasources: { enabled: false } },
            rbac: { create: false },
            serviceAccount: { automountServiceAccountToken: false },
            automountServiceAccountToken: false,
            datasources: {
                "datasources.yaml": {
                    apiVersion: 1,
                    datasources: [
                        {
                            name: "Thanos",
                            uid: THANOS_DATASOURCE_UID,
                            type: "prometheus",
                            access: "proxy",
                            url: a.queryFrontendUrl,
                            isDefault: true,
                            editable: false,
                            jsonData: { timeInterval: "30s", prometheusType: "Thanos" },
                        },
                    ],
                },
            },
            dashboardProviders: {
                "dashboardproviders.yaml": {
                    apiVersion: 1,
                    providers: [{ name: "platform", orgId: 1, folder: "", type: "file", disableDeletion: true, editable: false, options: { path: `/var/lib/grafana/dashboards/${DASHBOARD_PROVIDER}` } }],
                },
            },
            // Mounted at /var/lib/grafana/dashboards/<provider> (templates/_pod.tpl).
            dashboardsConfigMaps: { [DASHBOARD_PROVIDER]: GRAFANA_DASHBOARDS_CONFIGMAP },
            "grafana.ini": {
                server: { root_url: `https://${a.grafanaHostname}/` },
                users: { allow_sign_up: false },
                "auth.anonymous": { enabled: false },
                analytics: { reporting_enabled: false, check_for_updates: false },
                // The session cookie only over HTTPS and not sent on cross-site subrequests; HSTS for the Gateway's
                // host. SameSite lax, not strict: a link from an alert notification must open Grafana logged in.
                security: { cookie_secure: true, cookie_samesite: "lax", strict_transport_security: true, strict_transport_security_max_age_seconds: 31536000 },
            },
            // Helm test hooks do not run under a v4 Chart.
            testFramework: { enabled: false },
            resources: CHART_WORKLOAD_RESOURCES.grafana,
        },
        // No kube_secret_* series and no cluster-wide list of Secrets (the chart's default collectors include them).
        // Only the used metrics of its main port (`http`; the `metrics` port is its own telemetry), as on the edges.
        "kube-state-metrics": {
            ...mirror("registry.k8s.io"),
            collectorsExclude: ["secrets"],
            resources: CHART_WORKLOAD_RESOURCES.kubeStateMetrics,
            prometheus: { monitor: { http: { metricRelabelings: a.infraRelabelings.kubeStateMetrics } } },
        },
        // The kubelet's /metrics and /metrics/cadvisor keep the used metrics only, as on the edges. This replaces the
        // chart's own cAdvisor list, whose "cgroups of no pod" drop the series rules include.
        kubelet: { serviceMonitor: { metricRelabelings: a.infraRelabelings.kubelet, cAdvisorMetricRelabelings: a.infraRelabelings.cadvisor } },
        // node-exporter runs in its own privileged namespace (NodeExporter component), not in the restricted one.
        nodeExporter: { enabled: false },
        // Control-plane components whose metrics endpoints bind to localhost on most installs: scraping them would
        // only raise target-down noise. The API server, kubelet/cAdvisor and CoreDNS are scraped.
        kubeControllerManager: { enabled: false },
        kubeScheduler: { enabled: false },
        kubeEtcd: { enabled: false },
        kubeProxy: { enabled: false },
        prometheusOperator: {
            ...mirror("quay.io"),
            // The operator adds the config reloader to the Prometheus and Alertmanager pods.
            // The config reloader sidecars of the Prometheus and Alertmanager pods: the chart passes each
            // --config-reloader-* flag from these values, "0" (no request, no limit) for an unset one
            // (templates/prometheus-operator/deployment.yaml at 88.5.3); no CPU limit.
            prometheusConfigReloader: { ...mirror("quay.io"), resources: CHART_WORKLOAD_RESOURCES.configReloader },
            resources: CHART_WORKLOAD_RESOURCES.operator,
            // The webhook certificate is made by a Helm hook Job, and v4 Charts run no hooks.
            admissionWebhooks: { enabled: false },
            tls: { enabled: false },
        },
    };
}

/**
 * The central cluster's monitoring: kube-prometheus-stack (pinned) with the Prometheus HA pair that also writes to
 * Receive, clustered Alertmanager with the program's configuration, Grafana with the Query Frontend as datasource and
 * the platform's dashboards, and the PodMonitors for the platform's own components.
 */
export class CentralMonitoring extends pulumi.ComponentResource {
    /** Grafana's admin password (generated; a secret output). */
    public readonly grafanaAdminPassword: pulumi.Output<string>;
    /** Alertmanager in Thanos' DNS-discovery syntax (every replica). */
    public readonly alertmanagerUrl: string;

    constructor(name: string, args: CentralMonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
        super("agent-receiver:monitoring:CentralMonitoring", name, {}, opts);
        const ns = args.namespace;
        const labels = { "app.kubernetes.io/part-of": "agent-receiver", "app.kubernetes.io/managed-by": "pulumi" };
        this.alertmanagerUrl = `dns+http://alertmanager-operated.${args.namespaceName}.svc.cluster.local:${ALERTMANAGER_PORT}`;

        // CRDs: protected, and kept when this component is deleted (deleting a CRD deletes every object of its kind).
        const crds = new k8s.helm.v4.Chart(
            `${name}-crds`,
            { ...pinnedChartArgs(charts.kubePrometheusStack, ns, CRD_CHART_VALUES), name: `${KPS_RELEASE}-crds` },
            { parent: this, protect: true, retainOnDelete: true },
        );

        const password = new random.RandomPassword(generationName(`${name}-grafana-admin`, args.grafanaAdminPasswordGeneration), { length: 32, special: false }, { parent: this });
        this.grafanaAdminPassword = pulumi.secret(password.result);
        const secrets = [
            new k8s.core.v1.Secret(
                `${name}-grafana-admin`,
                {
                    metadata: { name: GRAFANA_ADMIN_SECRET, namespace: ns, labels },
                    stringData: { "admin-user": "admin", "admin-password": password.result },
                },
                { parent: this },
            ),
            new k8s.core.v1.Secret(
                `${name}-alertmanager-config`,
                {
                    // The name the operator looks for when useExistingSecret is set: alertmanager-<Alertmanager name>.
                    metadata: { name: `alertmanager-${KPS_RELEASE}-alertmanager`, namespace: ns, labels },
                    stringData: { "alertmanager.yaml": pulumi.secret(args.alertmanagerConfig) },
                },
                { parent: this },
            ),
            new k8s.core.v1.Secret(
                `${name}-remote-write-tls`,
                {
                    metadata: { name: REMOTE_WRITE_TLS_SECRET, namespace: ns, labels },
                    stringData: {
                        "ca.crt": args.remoteWrite.caCertPem,
                        "tls.crt": args.remoteWrite.certPem,
                        "tls.key": pulumi.secret(args.remoteWrite.keyPem),
                    },
                },
                { parent: this },
            ),
        ];

        new k8s.helm.v4.Chart(
            `${name}-kube-prometheus-stack`,
            { ...pinnedChartArgs(charts.kubePrometheusStack, ns, kubePrometheusStackValues(args)), name: KPS_RELEASE, skipCrds: true },
            { parent: this, dependsOn: [crds, ...secrets] },
        );

        // Every platform dashboard in one ConfigMap that the chart mounts as Grafana's file provider.
        new k8s.core.v1.ConfigMap(
            `${name}-dashboards`,
            {
                metadata: { name: GRAFANA_DASHBOARDS_CONFIGMAP, namespace: ns, labels },
                data: Object.fromEntries(args.dashboards.map((d) => [`${d.uid}.json`, dashboardJson(d, THANOS_DATASOURCE_UID)])),
            },
            { parent: this },
        );

        // Evaluated by the Prometheus pair itself, on its own scrapes: the chart's values leave ruleSelector empty with
        // ruleSelectorNilUsesHelmValues off, so the Prometheus selects every PrometheusRule (ruleNamespaceSelector {}:
        // in every namespace), and alertingEndpoints empty, so it sends to this release's Alertmanager.
        new k8s.apiextensions.CustomResource(
            `${name}-self-monitoring-rules`,
            {
                apiVersion: "monitoring.coreos.com/v1",
                kind: "PrometheusRule",
                metadata: { name: "agent-receiver-self-monitoring", namespace: ns, labels },
                spec: { groups: args.selfMonitoringRules },
            },
            { parent: this, dependsOn: crds },
        );

        // The platform's own pods: job = the pod's app.kubernetes.io/name, which the alert rules select on.
        const podMonitor = (
            id: string,
            namespace: string,
            names: string[],
            endpoint: { port: string; path?: string; metricRelabelings?: unknown[] },
            only?: { component: string; jobLabel?: string },
        ) =>
            new k8s.apiextensions.CustomResource(
                `${name}-podmonitor-${id}`,
                {
                    apiVersion: "monitoring.coreos.com/v1",
                    kind: "PodMonitor",
                    metadata: { name: id, namespace: ns, labels },
                    spec: {
                        jobLabel: only?.jobLabel ?? JOB_LABEL,
                        namespaceSelector: { matchNames: [namespace] },
                        selector: {
                            matchExpressions: [
                                { key: JOB_LABEL, operator: "In", values: names },
                                ...(only ? [{ key: COMPONENT_LABEL, operator: "In", values: [only.component] }] : []),
                            ],
                        },
                        podMetricsEndpoints: [{ ...endpoint, interval: "30s" }],
                    },
                },
                { parent: this, dependsOn: crds },
            );
        podMonitor("thanos", args.thanosNamespace, THANOS_JOBS, { port: "http" });
        // Two memcached fleets: the results cache keeps job "memcached" (the cache alerts and dashboards read it), the
        // Store Gateway's cache is job "store-cache" (its component label), so one never skews the other's ratios.
        podMonitor("memcached", args.thanosNamespace, ["memcached"], { port: "metrics" }, { component: "query-cache" });
        podMonitor("store-cache", args.thanosNamespace, ["memcached"], { port: "metrics" }, { component: "store-cache", jobLabel: COMPONENT_LABEL });
        podMonitor("fluent-bit", args.logShipperNamespace, ["fluent-bit"], { port: "http", path: "/api/v1/metrics/prometheus" });
        podMonitor(OPENSEARCH_EXPORTER_NAME, args.logStoreNamespace, [OPENSEARCH_EXPORTER_NAME], {
            port: "metrics",
            metricRelabelings: OPENSEARCH_METRIC_RELABELINGS,
        });

        this.networkPolicies(name, args, labels);
        this.registerOutputs({ grafanaAdminPassword: this.grafanaAdminPassword, alertmanagerUrl: this.alertmanagerUrl });
    }

    /** Allows on top of the namespace's default deny; each names who talks to whom and why. */
    private networkPolicies(name: string, a: CentralMonitoringArgs, labels: Record<string, string>): void {
        const ns = a.namespace;
        const app = (n: string) => ({ matchLabels: { "app.kubernetes.io/name": n } });
        const policy = (id: string, spec: k8s.types.input.networking.v1.NetworkPolicySpec) =>
            new k8s.networking.v1.NetworkPolicy(`${name}-netpol-${id}`, { metadata: { name: id, namespace: ns, labels }, spec }, { parent: this });
        const L = CENTRAL_POD_LABELS;
        const tcp = (...ports: number[]) => ports.map((port) => ({ protocol: "TCP", port }));

        // Prometheus scrapes pods of every namespace, the kubelets and node-exporters (host network) and the API
        // server, and writes to Receive: all inside the cluster, on many ports. A Kubernetes NetworkPolicy cannot
        // name the host, remote nodes or the API server under Cilium (no ipBlock match), so a CiliumNetworkPolicy
        // allows exactly "inside the cluster" by entity; nothing outside it (README, "NetworkPolicy under Cilium").
        // Each destination's own ingress rules decide what it accepts from Prometheus.
        new k8s.apiextensions.CustomResource(
            `${name}-cilium-prometheus-egress`,
            {
                apiVersion: "cilium.io/v2",
                kind: "CiliumNetworkPolicy",
                metadata: { name: "prometheus-egress-in-cluster", namespace: ns, labels },
                spec: {
                    endpointSelector: app("prometheus"),
                    egress: [{ toEntities: ["cluster", "kube-apiserver"] }],
                },
            },
            { parent: this },
        );
        // The API server (and the nodes, where a table row says so) for the chart workloads that watch it.
        for (const [id, egress] of Object.entries(a.entityEgress) as [keyof typeof L, Record<string, unknown>[]][]) {
            if (id === "prometheus" || egress.length === 0) continue;
            const objectName = `${CHART_WORKLOAD_NAMES[id]}-egress`;
            new k8s.apiextensions.CustomResource(
                `${name}-cilium-${objectName}`,
                { apiVersion: "cilium.io/v2", kind: "CiliumNetworkPolicy", metadata: { name: objectName, namespace: ns, labels }, spec: { endpointSelector: { matchLabels: L[id] }, egress } },
                { parent: this },
            );
        }
        // Scrapes of the chart's own workloads by the Prometheus pair; nothing else reaches them.
        policy("prometheus-operator", { podSelector: { matchLabels: L.operator }, policyTypes: ["Ingress"], ingress: [{ from: a.metricsScrapers, ports: tcp(OPERATOR_METRICS_PORT) }] });
        policy("kube-state-metrics", { podSelector: { matchLabels: L.kubeStateMetrics }, policyTypes: ["Ingress"], ingress: [{ from: a.metricsScrapers, ports: tcp(8080, 8081) }] });
        // Alertmanager: alerts from the Ruler and Prometheus, scrapes (and the reloader's metrics), gossip between its
        // replicas; out to the webhooks' addresses only. Its API is unauthenticated (silences): Grafana cannot reach it.
        const peers = [{ podSelector: { matchLabels: L.alertmanager } }];
        policy("alertmanager", {
            podSelector: { matchLabels: L.alertmanager },
            policyTypes: ["Ingress", "Egress"],
            ingress: [
                { from: a.alertSenders, ports: tcp(ALERTMANAGER_PORT) },
                { from: a.metricsScrapers, ports: tcp(ALERTMANAGER_PORT, 8080) },
                { from: peers, ports: [{ protocol: "TCP", port: ALERTMANAGER_MESH_PORT }, { protocol: "UDP", port: ALERTMANAGER_MESH_PORT }] },
            ],
            egress: nonEmptyTo([
                { to: a.webhookCidrs.map((cidr) => ({ ipBlock: { cidr } })), ports: tcp(443) },
                { to: peers, ports: [{ protocol: "TCP", port: ALERTMANAGER_MESH_PORT }, { protocol: "UDP", port: ALERTMANAGER_MESH_PORT }] },
            ]),
        });
        // Grafana: scraped, and its only datasource is the Query Frontend (the Gateway's ingress is HttpsGateway's).
        policy("grafana", {
            podSelector: { matchLabels: L.grafana },
            policyTypes: ["Ingress", "Egress"],
            ingress: [{ from: a.metricsScrapers, ports: tcp(GRAFANA_PORT) }],
            egress: [{ to: a.queryFrontend, ports: tcp(THANOS_PORTS.http) }],
        });
    }
}
