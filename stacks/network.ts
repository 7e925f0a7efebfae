/**
 * Who may talk to whom: every allowed flow of the platform's workloads, as plain data, in one place. A flow goes from
 * a workload's pods to another workload, to a Cilium entity (the API server, the nodes' kubelets and node
 * exporters), or to an address outside the cluster that the configuration names (MinIO, the central LoadBalancers
 * seen from an edge, the alert webhooks). Every component's NetworkPolicy and CiliumNetworkPolicy peers are taken
 * from these tables (`ingressPeers`, `egressPeers`, `entityPorts`, `externalCidrs`); the namespaces' default deny and
 * DNS allow are `PlatformNamespace`'s. `docs/network.md`-style renderings (README, Korean architecture page) are
 * generated from the same tables (`flowList`, `flowMermaid`) and checked by a test.
 *
 * Pod labels of chart workloads are the ones the pinned charts (or the Prometheus Operator) put on their pods, each
 * cited where it is defined (`components/*`).
 */
import type * as k8s from "@pulumi/kubernetes";
import { ALERTMANAGER_MESH_PORT, ALERTMANAGER_PORT, CENTRAL_POD_LABELS, GRAFANA_PORT, OPERATOR_METRICS_PORT } from "../components/centralMonitoring";
import { DASHBOARDS_NAME } from "../components/logDashboards";
import { FLUENT_BIT_METRICS_PORT } from "../components/logShipper";
import { OPENSEARCH_PORT, OPENSEARCH_TRANSPORT_PORT } from "../components/logStore";
import { EXPORTER_PORT, MEMCACHED_PORT, memcachedPodLabels } from "../components/memcached";
import { OPENSEARCH_EXPORTER_PORT } from "../components/openSearchExporter";
import { COMPACTOR_NAME } from "../components/thanosCompactor";
import { QUERY_NAME } from "../components/thanosQuery";
import { QUERY_FRONTEND_NAME } from "../components/thanosQueryFrontend";
import { RECEIVE_NAME } from "../components/thanosReceive";
import { RULER_NAME } from "../components/thanosRuler";
import { STORE_NAME } from "../components/thanosStoreGateway";
import { KUBE_STATE_METRICS_PORT, kubeStateMetricsPodLabels, kubeStateMetricsReleaseName } from "../components/kubeStateMetrics";
import { agentSelector } from "../components/prometheusAgent";
import { taintJobSelector } from "../components/tenantIsolation";
import type { CentralConfig, EdgeConfig } from "../lib/config";
import { API_SERVER_PORTS } from "../lib/k8s";
import { THANOS_PORTS } from "../lib/thanos";
import { CENTRAL_MONITORING_NAMESPACE, LOG_SHIPPER_NAMESPACE } from "./shared";

type Peer = k8s.types.input.networking.v1.NetworkPolicyPeer;

/** A workload: its pods by labels in a namespace, or (no labels) every pod of the namespace. */
export interface Workload {
    readonly kind: "pods";
    readonly id: string;
    readonly namespace: string;
    readonly labels?: Readonly<Record<string, string>>;
}

/** A Cilium entity: the API server, the local node (`host`), the other nodes (`remote-node`). */
export interface Entity {
    readonly kind: "entity";
    readonly id: string;
    readonly entities: readonly ("kube-apiserver" | "host" | "remote-node")[];
}

/** Addresses outside the cluster, as CIDRs from the configuration (or the stack contract). */
export interface External {
    readonly kind: "external";
    readonly id: string;
    readonly cidrs: readonly string[];
    /** Where the addresses come from, as the operator types it. */
    readonly source: string;
}

export type Endpoint = Workload | Entity | External;

/** What a flow is for: a component takes the peers of each purpose as one argument. */
export type Purpose =
    | "metrics"
    | "query"
    | "store-api"
    | "query-cache"
    | "store-cache"
    | "datasource"
    | "alerts"
    | "logs-search"
    | "logs"
    | "remote-write"
    | "object-storage"
    | "kubernetes-api"
    | "node-metrics"
    | "webhooks"
    | "replication"
    | "tenant"
    | "logs-admin"
    | "tracing";

export interface Flow {
    /** A workload's pods, or (for what a LoadBalancer exposes) addresses outside the cluster. */
    readonly from: Workload | External;
    readonly to: Endpoint;
    /** TCP ports; absent for "any port" (an agent scraping its tenant's pods, Prometheus scraping the cluster). */
    readonly ports?: readonly number[];
    readonly purpose: Purpose;
}

const pods = (id: string, namespace: string, labels?: Record<string, string>): Workload => ({ kind: "pods", id, namespace, labels });
const app = (id: string, namespace: string, name: string): Workload => pods(id, namespace, { "app.kubernetes.io/name": name });

export const API_SERVER: Entity = { kind: "entity", id: "kube-apiserver", entities: ["kube-apiserver"] };
/** Kubelets (10250) and node exporters (9100, host network) of every node. */
export const NODES: Entity = { kind: "entity", id: "nodes", entities: ["host", "remote-node"] };
/** The node exporter's port on the host network. */
export const NODE_EXPORTER_PORT = 9100;
export const KUBELET_PORT = 10250;

/** Fluent Bit on every cluster (the chart's pods, in the namespace the program fixes). */
export function fluentBitWorkload(namespace = LOG_SHIPPER_NAMESPACE): Workload {
    return app("fluent-bit", namespace, "fluent-bit");
}

/** The central cluster's workloads, in the namespaces its config names. */
export function centralWorkloads(ns: { thanos: string; monitoring: string; logs: string; logShipper: string }) {
    return {
        receive: app("receive", ns.thanos, RECEIVE_NAME),
        query: app("query", ns.thanos, QUERY_NAME),
        queryFrontend: app("query-frontend", ns.thanos, QUERY_FRONTEND_NAME),
        store: app("store", ns.thanos, STORE_NAME),
        compactor: app("compactor", ns.thanos, COMPACTOR_NAME),
        ruler: app("ruler", ns.thanos, RULER_NAME),
        memcached: pods("memcached", ns.thanos, memcachedPodLabels("query-cache")),
        storeCache: pods("store-cache", ns.thanos, memcachedPodLabels("store-cache")),
        prometheus: pods("prometheus", ns.monitoring, CENTRAL_POD_LABELS.prometheus),
        alertmanager: pods("alertmanager", ns.monitoring, CENTRAL_POD_LABELS.alertmanager),
        grafana: pods("grafana", ns.monitoring, CENTRAL_POD_LABELS.grafana),
        operator: pods("prometheus-operator", ns.monitoring, CENTRAL_POD_LABELS.operator),
        kubeStateMetrics: pods("kube-state-metrics", ns.monitoring, CENTRAL_POD_LABELS.kubeStateMetrics),
        openSearch: app("opensearch", ns.logs, "opensearch"),
        openSearchConfigure: app("opensearch-configure", ns.logs, "opensearch-configure"),
        openSearchExporter: app("opensearch-exporter", ns.logs, "opensearch-exporter"),
        dashboards: app("opensearch-dashboards", ns.logs, DASHBOARDS_NAME),
        fluentBit: fluentBitWorkload(ns.logShipper),
    };
}
export type CentralWorkloads = ReturnType<typeof centralWorkloads>;

/** Outside addresses the central cluster talks to. */
export interface CentralOutside {
    readonly objectStorage: External;
    readonly webhooks: External;
    /** The edges, through the LoadBalancers (remote write, OpenSearch's HTTP API). */
    readonly edges: External;
    /** Writers outside the platform's stacks (`central.externalWriters`), through Receive's LoadBalancer only. */
    readonly externalWriters?: External;
    /** The OTLP collector (`central.tracing`) and its port. */
    readonly tracing?: { readonly collector: External; readonly port: number };
}

/** Every flow of the central cluster. Order matters only for the order of peers in a policy. */
export function centralFlows(w: CentralWorkloads, out: CentralOutside, objectStoragePort: number): Flow[] {
    const { http, grpc } = THANOS_PORTS;
    const scraped: [Workload, number[]][] = [
        [w.receive, [http]],
        [w.store, [http]],
        [w.query, [http]],
        [w.memcached, [EXPORTER_PORT]],
        [w.storeCache, [EXPORTER_PORT]],
        [w.queryFrontend, [http]],
        [w.compactor, [http]],
        [w.ruler, [http]],
        [w.openSearchExporter, [OPENSEARCH_EXPORTER_PORT]],
        [w.fluentBit, [FLUENT_BIT_METRICS_PORT]],
        [w.alertmanager, [ALERTMANAGER_PORT, 8080]],
        [w.grafana, [GRAFANA_PORT]],
        [w.operator, [OPERATOR_METRICS_PORT]],
        [w.kubeStateMetrics, [8080, 8081]],
    ];
    return [
        // The central Prometheus pair scrapes every component (and, by entity, the nodes and the API server).
        ...scraped.map(([to, ports]): Flow => ({ from: w.prometheus, to, ports, purpose: "metrics" })),
        { from: w.prometheus, to: NODES, ports: [KUBELET_PORT, NODE_EXPORTER_PORT], purpose: "node-metrics" },
        { from: w.prometheus, to: API_SERVER, ports: API_SERVER_PORTS, purpose: "kubernetes-api" },
        // The central Prometheus writes its own series to Receive, in the cluster.
        { from: w.prometheus, to: w.receive, ports: [THANOS_PORTS.remoteWrite], purpose: "remote-write" },
        { from: w.prometheus, to: w.alertmanager, ports: [ALERTMANAGER_PORT], purpose: "alerts" },
        // Within a workload: Receive replicates between its replicas, OpenSearch nodes talk on the transport port,
        // Alertmanager replicas gossip (TCP and UDP; listed as TCP here), the configure Job sets OpenSearch up.
        { from: w.receive, to: w.receive, ports: [grpc], purpose: "replication" },
        { from: w.openSearch, to: w.openSearch, ports: [OPENSEARCH_TRANSPORT_PORT], purpose: "replication" },
        { from: w.alertmanager, to: w.alertmanager, ports: [ALERTMANAGER_MESH_PORT], purpose: "replication" },
        // securityadmin.sh and curl use the HTTP port (securityadmin's default is 9200, the REST API).
        { from: w.openSearchConfigure, to: w.openSearch, ports: [OPENSEARCH_PORT], purpose: "logs-admin" },
        // What the LoadBalancers expose, to the edges' ranges only: remote write, OpenSearch for their Fluent Bit.
        { from: out.edges, to: w.receive, ports: [THANOS_PORTS.remoteWrite], purpose: "remote-write" },
        { from: out.edges, to: w.openSearch, ports: [OPENSEARCH_PORT], purpose: "logs" },
        // Queries: the frontend, Receive (meta-monitoring of its limits) and the Ruler ask Query.
        { from: w.queryFrontend, to: w.query, ports: [http], purpose: "query" },
        { from: w.receive, to: w.query, ports: [http], purpose: "query" },
        { from: w.ruler, to: w.query, ports: [http], purpose: "query" },
        // Query reads the StoreAPI of Receive and the Store Gateway.
        { from: w.query, to: w.receive, ports: [grpc], purpose: "store-api" },
        { from: w.query, to: w.store, ports: [grpc], purpose: "store-api" },
        // The frontend's results cache; Grafana's only datasource is the frontend.
        { from: w.queryFrontend, to: w.memcached, ports: [MEMCACHED_PORT], purpose: "query-cache" },
        // The Store Gateway's index cache and caching bucket (its own fleet).
        { from: w.store, to: w.storeCache, ports: [MEMCACHED_PORT], purpose: "store-cache" },
        { from: w.grafana, to: w.queryFrontend, ports: [http], purpose: "query" },
        // The Ruler sends its alerts to Alertmanager; Alertmanager sends notifications to the webhooks.
        { from: w.ruler, to: w.alertmanager, ports: [ALERTMANAGER_PORT], purpose: "alerts" },
        { from: w.alertmanager, to: out.webhooks, ports: [443], purpose: "webhooks" },
        // Blocks to and from the bucket.
        { from: w.receive, to: out.objectStorage, ports: [objectStoragePort], purpose: "object-storage" },
        { from: w.store, to: out.objectStorage, ports: [objectStoragePort], purpose: "object-storage" },
        { from: w.compactor, to: out.objectStorage, ports: [objectStoragePort], purpose: "object-storage" },
        // Logs: this cluster's Fluent Bit writes to OpenSearch in the cluster; Dashboards and the exporter read it;
        // the configure Job sets up security and retention.
        { from: w.fluentBit, to: w.openSearch, ports: [OPENSEARCH_PORT], purpose: "logs" },
        { from: w.dashboards, to: w.openSearch, ports: [OPENSEARCH_PORT], purpose: "logs-search" },
        { from: w.openSearchExporter, to: w.openSearch, ports: [OPENSEARCH_PORT], purpose: "logs-search" },
        // Watches of the API server: the operator, kube-state-metrics, Grafana's sidecars, Fluent Bit's filter.
        { from: w.operator, to: API_SERVER, ports: API_SERVER_PORTS, purpose: "kubernetes-api" },
        { from: w.kubeStateMetrics, to: API_SERVER, ports: API_SERVER_PORTS, purpose: "kubernetes-api" },
        { from: w.grafana, to: API_SERVER, ports: API_SERVER_PORTS, purpose: "kubernetes-api" },
        { from: w.fluentBit, to: API_SERVER, ports: API_SERVER_PORTS, purpose: "kubernetes-api" },
        ...extensionFlows(w, out),
    ];
}

/** The Thanos workloads: each sends its traces to the collector when tracing is on. */
function thanosWorkloads(w: CentralWorkloads): Workload[] {
    return [w.receive, w.query, w.queryFrontend, w.store, w.compactor, w.ruler];
}

/**
 * The extension points' flows, only when configured (a stack without them has exactly the table above): an
 * external writer's range reaches Receive's remote-write port and nothing else (not OpenSearch: it ships no logs),
 * and every Thanos component reaches the OTLP collector on its port.
 */
function extensionFlows(w: CentralWorkloads, out: CentralOutside): Flow[] {
    const t = out.tracing;
    return [
        ...(out.externalWriters ? [{ from: out.externalWriters, to: w.receive, ports: [THANOS_PORTS.remoteWrite], purpose: "remote-write" } as Flow] : []),
        ...(t ? thanosWorkloads(w).map((from): Flow => ({ from, to: t.collector, ports: [t.port], purpose: "tracing" })) : []),
    ];
}

/** An edge cluster's workloads for one scope (the whole cluster, or one tenant). */
export interface EdgeScopeWorkloads {
    readonly agent: Workload;
    readonly kubeStateMetrics: Workload;
    /** The tenant's own namespaces (none for a cluster-wide scope). */
    readonly tenantNamespaces: Workload[];
    /** The tenant's taint Job (tenants only). */
    readonly taintJob?: Workload;
}

/** The central cluster's LoadBalancers, as an edge reaches them (addresses from the stack contract). */
export interface EdgeOutside {
    readonly remoteWrite: External;
    readonly logs: External;
}

/**
 * The flows of one edge scope: its agent scrapes its own kube-state-metrics, its tenant's namespaces, Fluent Bit and
 * the nodes, lists targets from the API server and writes to the central Receive; kube-state-metrics and the taint
 * Job use the API server.
 */
export function edgeScopeFlows(w: EdgeScopeWorkloads, fluentBit: Workload, out: EdgeOutside, kubeStateMetricsPort: number): Flow[] {
    return [
        { from: w.agent, to: w.kubeStateMetrics, ports: [kubeStateMetricsPort], purpose: "metrics" },
        ...w.tenantNamespaces.map((to): Flow => ({ from: w.agent, to, purpose: "metrics" })),
        // A tenant's own namespaces talk to each other freely (the tenant's business); nothing crosses tenants.
        ...w.tenantNamespaces.flatMap((from) => w.tenantNamespaces.map((to): Flow => ({ from, to, purpose: "tenant" }))),
        { from: w.agent, to: fluentBit, ports: [FLUENT_BIT_METRICS_PORT], purpose: "metrics" },
        { from: w.agent, to: NODES, ports: [KUBELET_PORT, NODE_EXPORTER_PORT], purpose: "node-metrics" },
        { from: w.agent, to: API_SERVER, ports: API_SERVER_PORTS, purpose: "kubernetes-api" },
        { from: w.agent, to: out.remoteWrite, ports: [443], purpose: "remote-write" },
        { from: w.kubeStateMetrics, to: API_SERVER, ports: API_SERVER_PORTS, purpose: "kubernetes-api" },
        ...(w.taintJob ? [{ from: w.taintJob, to: API_SERVER, ports: API_SERVER_PORTS, purpose: "kubernetes-api" } as Flow] : []),
    ];
}

/** The flows every edge cluster has once: Fluent Bit ships to the central OpenSearch and watches the API server. */
export function edgeClusterFlows(fluentBit: Workload, out: EdgeOutside): Flow[] {
    return [
        { from: fluentBit, to: out.logs, ports: [OPENSEARCH_PORT], purpose: "logs" },
        { from: fluentBit, to: API_SERVER, ports: API_SERVER_PORTS, purpose: "kubernetes-api" },
    ];
}

/** The NetworkPolicy peer that names `w` in a policy of namespace `policyNamespace`. */
export function peerOf(w: Workload, policyNamespace: string): Peer {
    if (w.labels === undefined) return { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": w.namespace } } };
    if (w.namespace === policyNamespace) return { podSelector: { matchLabels: { ...w.labels } } };
    return { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": w.namespace } }, podSelector: { matchLabels: { ...w.labels } } };
}

/** Who may reach `to` for `purpose`: the peers of its ingress rule. */
export function ingressPeers(flows: Flow[], to: Workload, purpose: Purpose): Peer[] {
    return flows.filter((f) => f.to.id === to.id && f.purpose === purpose && f.from.kind === "pods").map((f) => peerOf(f.from as Workload, to.namespace));
}

/** The outside CIDRs that may reach `to` for `purpose` (an ipBlock peer of its ingress rule). */
export function externalSources(flows: Flow[], to: Workload, purpose: Purpose): string[] {
    return flows.filter((f) => f.to.id === to.id && f.purpose === purpose && f.from.kind === "external").flatMap((f) => [...(f.from as External).cidrs]);
}

/** Whom `from` may reach for `purpose` among workloads: the peers of its egress rule. */
export function egressPeers(flows: Flow[], from: Workload, purpose: Purpose): Peer[] {
    return flows.filter((f) => f.from.id === from.id && f.purpose === purpose && f.to.kind === "pods").map((f) => peerOf(f.to as Workload, from.namespace));
}

/** The outside CIDRs `from` may reach for `purpose` (an ipBlock rule: Cilium matches it to addresses outside the cluster). */
export function externalCidrs(flows: Flow[], from: Workload, purpose: Purpose): string[] {
    return flows.filter((f) => f.from.id === from.id && f.purpose === purpose && f.to.kind === "external").flatMap((f) => [...(f.to as External).cidrs]);
}

/** The entity rules of `from` (a CiliumNetworkPolicy's egress), one per flow to an entity. */
export function entityEgress(flows: Flow[], from: Workload): { toEntities: string[]; toPorts: { ports: { port: string; protocol: string }[] }[] }[] {
    return flows
        .filter((f) => f.from.id === from.id && f.to.kind === "entity")
        .map((f) => ({
            toEntities: [...(f.to as Entity).entities],
            toPorts: [{ ports: (f.ports ?? []).map((p) => ({ port: String(p), protocol: "TCP" })) }],
        }));
}

/** The tables as a list for people: `source → destination: ports (purpose)`. */
export function flowList(flows: Flow[]): string[] {
    const name = (e: Endpoint | External) => (e.kind === "pods" ? `${e.id} (${e.namespace})` : e.kind === "entity" ? e.entities.join("/") : `${e.id} [${e.source}]`);
    return flows.map((f) => `${name(f.from)} → ${name(f.to)}: ${f.ports ? f.ports.join(", ") : "any port"} (${f.purpose})`);
}

/** The tables as a Mermaid flowchart. */
export function flowMermaid(flows: Flow[]): string {
    const idOf = (e: Endpoint) => e.id.replace(/[^A-Za-z0-9]/g, "_");
    const label = (e: Endpoint) => (e.kind === "pods" ? `${e.id}<br/>${e.namespace}` : e.kind === "entity" ? e.entities.join(" / ") : `${e.id}<br/>${e.source}`);
    const nodes = new Map<string, string>();
    for (const f of flows) for (const e of [f.from, f.to]) nodes.set(idOf(e), `${idOf(e)}["${label(e)}"]`);
    const edges = flows.map((f) => `  ${idOf(f.from)} -->|${f.ports ? f.ports.join(",") : "any"}| ${idOf(f.to)}`);
    return ["flowchart LR", ...[...nodes.values()].map((n) => `  ${n}`), ...[...new Set(edges)]].join("\n");
}

/** The central stack's whole table, from its configuration. */
export function centralNetwork(c: CentralConfig) {
    const w = centralWorkloads({ thanos: c.namespace, monitoring: CENTRAL_MONITORING_NAMESPACE, logs: c.logs.namespace, logShipper: LOG_SHIPPER_NAMESPACE });
    const outside: CentralOutside = {
        objectStorage: { kind: "external", id: "minio", cidrs: [c.objectStorage.cidr], source: "agent-receiver:central.objectStorage.cidr" },
        webhooks: { kind: "external", id: "alert-webhooks", cidrs: c.monitoring.alerting.webhookCidrs, source: "agent-receiver:central.monitoring.alerting.webhookCidrs" },
        edges: { kind: "external", id: "edges", cidrs: c.edgeSourceRanges, source: "agent-receiver:central.edgeSourceRanges" },
        externalWriters:
            c.externalWriters.length === 0
                ? undefined
                : { kind: "external", id: "external-writers", cidrs: [...new Set(c.externalWriters.flatMap((x) => x.sourceRanges))], source: "agent-receiver:central.externalWriters[].sourceRanges" },
        tracing: c.tracing && {
            collector: { kind: "external", id: "otlp-collector", cidrs: [c.tracing.cidr], source: "agent-receiver:central.tracing.cidr" },
            port: Number(c.tracing.otlpEndpoint.split(":")[1]),
        },
    };
    return { w, outside, flows: centralFlows(w, outside, Number(c.objectStorage.endpoint.split(":")[1])) };
}

/** The addresses of the central LoadBalancers, from the stack contract. */
export interface CentralAddresses {
    readonly centralStack: string;
    readonly receiveLoadBalancerIP: string;
    readonly logsLoadBalancerIP: string;
}

/** An edge stack's whole table: one scope per tenant (or one for the cluster), and Fluent Bit. */
export function edgeNetwork(cluster: string, e: EdgeConfig, central: CentralAddresses) {
    const outside: EdgeOutside = {
        remoteWrite: { kind: "external", id: "central-receive", cidrs: [`${central.receiveLoadBalancerIP}/32`], source: `${central.centralStack} output receiveLoadBalancerIP` },
        logs: { kind: "external", id: "central-opensearch", cidrs: [`${central.logsLoadBalancerIP}/32`], source: `${central.centralStack} output logsLoadBalancerIP` },
    };
    const fluentBit = fluentBitWorkload();
    const tenants: { name?: string; namespaces: string[] }[] = e.tenants.length === 0 ? [{ namespaces: [] }] : e.tenants.map((t) => ({ name: t.name, namespaces: [...t.namespaces] }));
    const scopes = tenants.map((t) => {
        const suffix = t.name ? `-${t.name}` : "";
        const kubeStateMetricsName = `${cluster}-kube-state-metrics${suffix}`;
        const w: EdgeScopeWorkloads = {
            agent: { kind: "pods", id: `agent${suffix}`, namespace: e.namespace, labels: agentSelector(t.name) },
            kubeStateMetrics: { kind: "pods", id: `kube-state-metrics${suffix}`, namespace: e.namespace, labels: kubeStateMetricsPodLabels(kubeStateMetricsReleaseName(kubeStateMetricsName)) },
            tenantNamespaces: t.namespaces.map((n): Workload => ({ kind: "pods", id: `tenant-namespace-${n}`, namespace: n })),
            taintJob: t.name ? { kind: "pods", id: `tenant-taint-${t.name}`, namespace: e.namespace, labels: taintJobSelector(t.name) } : undefined,
        };
        return { tenant: t.name, suffix, kubeStateMetricsName, w };
    });
    const flows = [...edgeClusterFlows(fluentBit, outside), ...scopes.flatMap((x) => edgeScopeFlows(x.w, fluentBit, outside, KUBE_STATE_METRICS_PORT))];
    return { fluentBit, outside, scopes, flows };
}
