/**
 * Who may talk to whom: every allowed flow between the platform's workloads, as plain data. The components'
 * NetworkPolicy peers are taken from these tables (`ingressPeers`, `egressPeers`), so "what may reach Query?" is
 * answered here, in one place. Flows to the API server, the nodes and outside addresses are the components' own
 * (entity and CIDR rules); the namespaces' default deny and DNS allow are `PlatformNamespace`'s.
 */
import type * as k8s from "@pulumi/kubernetes";
import { ALERTMANAGER_PORT } from "../components/centralMonitoring";
import { DASHBOARDS_NAME } from "../components/logDashboards";
import { FLUENT_BIT_METRICS_PORT } from "../components/logShipper";
import { OPENSEARCH_PORT } from "../components/logStore";
import { EXPORTER_PORT, MEMCACHED_PORT } from "../components/memcached";
import { OPENSEARCH_EXPORTER_PORT } from "../components/openSearchExporter";
import { COMPACTOR_NAME } from "../components/thanosCompactor";
import { QUERY_NAME } from "../components/thanosQuery";
import { QUERY_FRONTEND_NAME } from "../components/thanosQueryFrontend";
import { RECEIVE_NAME } from "../components/thanosReceive";
import { RULER_NAME } from "../components/thanosRuler";
import { STORE_NAME } from "../components/thanosStoreGateway";
import { THANOS_PORTS } from "../lib/thanos";

type Peer = k8s.types.input.networking.v1.NetworkPolicyPeer;

/** A workload: its pods by labels in a namespace, or (no labels) every pod of the namespace. */
export interface Workload {
    readonly id: string;
    readonly namespace: string;
    readonly labels?: Readonly<Record<string, string>>;
}

/** What a flow is for: a component takes the peers of each purpose as one argument. */
export type Purpose = "metrics" | "query" | "store-api" | "query-cache" | "datasource" | "alerts" | "logs-search";

export interface Flow {
    readonly from: Workload;
    readonly to: Workload;
    /** TCP port; absent for "any port" (an agent scraping its tenant's pods). */
    readonly port?: number;
    readonly purpose: Purpose;
}

const app = (id: string, namespace: string, name: string): Workload => ({ id, namespace, labels: { "app.kubernetes.io/name": name } });

/** The central cluster's workloads, in the namespaces its config names. */
export function centralWorkloads(ns: { thanos: string; monitoring: string; logs: string; logShipper: string }) {
    return {
        receive: app("receive", ns.thanos, RECEIVE_NAME),
        query: app("query", ns.thanos, QUERY_NAME),
        queryFrontend: app("query-frontend", ns.thanos, QUERY_FRONTEND_NAME),
        store: app("store", ns.thanos, STORE_NAME),
        compactor: app("compactor", ns.thanos, COMPACTOR_NAME),
        ruler: app("ruler", ns.thanos, RULER_NAME),
        memcached: app("memcached", ns.thanos, "memcached"),
        /** The central Prometheus pair and the rest of kube-prometheus-stack: the namespace as a whole. */
        monitoring: { id: "monitoring", namespace: ns.monitoring } as Workload,
        alertmanager: app("alertmanager", ns.monitoring, "alertmanager"),
        grafana: app("grafana", ns.monitoring, "grafana"),
        openSearch: app("opensearch", ns.logs, "opensearch"),
        openSearchExporter: app("opensearch-exporter", ns.logs, "opensearch-exporter"),
        dashboards: app("opensearch-dashboards", ns.logs, DASHBOARDS_NAME),
        fluentBit: app("fluent-bit", ns.logShipper, "fluent-bit"),
    };
}
export type CentralWorkloads = ReturnType<typeof centralWorkloads>;

/** Every flow between the central cluster's workloads. Order matters only for the order of peers in a policy. */
export function centralFlows(w: CentralWorkloads): Flow[] {
    const { http, grpc } = THANOS_PORTS;
    const scraped: [Workload, number][] = [
        [w.receive, http],
        [w.store, http],
        [w.query, http],
        [w.memcached, EXPORTER_PORT],
        [w.queryFrontend, http],
        [w.compactor, http],
        [w.ruler, http],
        [w.openSearchExporter, OPENSEARCH_EXPORTER_PORT],
        [w.fluentBit, FLUENT_BIT_METRICS_PORT],
    ];
    return [
        // The central Prometheus pair scrapes every component.
        ...scraped.map(([to, port]): Flow => ({ from: w.monitoring, to, port, purpose: "metrics" })),
        // Queries: the frontend, Receive (meta-monitoring of its limits), the Ruler and the monitoring namespace ask Query.
        { from: w.queryFrontend, to: w.query, port: http, purpose: "query" },
        { from: w.receive, to: w.query, port: http, purpose: "query" },
        { from: w.ruler, to: w.query, port: http, purpose: "query" },
        { from: w.monitoring, to: w.query, port: http, purpose: "query" },
        // Query reads the StoreAPI of Receive and the Store Gateway.
        { from: w.query, to: w.receive, port: grpc, purpose: "store-api" },
        { from: w.query, to: w.store, port: grpc, purpose: "store-api" },
        // The frontend's results cache; Grafana's only datasource is the frontend.
        { from: w.queryFrontend, to: w.memcached, port: MEMCACHED_PORT, purpose: "query-cache" },
        { from: w.monitoring, to: w.queryFrontend, port: http, purpose: "query" },
        { from: w.grafana, to: w.queryFrontend, port: http, purpose: "datasource" },
        // The Ruler sends its alerts to Alertmanager.
        { from: w.ruler, to: w.alertmanager, port: ALERTMANAGER_PORT, purpose: "alerts" },
        // Operators search logs in Dashboards, which queries OpenSearch.
        { from: w.dashboards, to: w.openSearch, port: OPENSEARCH_PORT, purpose: "logs-search" },
    ];
}

/** An edge cluster's workloads for one scope (the whole cluster, or one tenant). */
export interface EdgeScopeWorkloads {
    readonly agent: Workload;
    readonly kubeStateMetrics: Workload;
    /** The tenant's own namespaces (none for a cluster-wide scope). */
    readonly tenantNamespaces: Workload[];
}

/** The flows of one edge scope: its agent scrapes its own kube-state-metrics, its tenant's namespaces and Fluent Bit. */
export function edgeScopeFlows(w: EdgeScopeWorkloads, fluentBit: Workload, kubeStateMetricsPort: number): Flow[] {
    return [
        { from: w.agent, to: w.kubeStateMetrics, port: kubeStateMetricsPort, purpose: "metrics" },
        ...w.tenantNamespaces.map((to): Flow => ({ from: w.agent, to, purpose: "metrics" })),
        { from: w.agent, to: fluentBit, port: FLUENT_BIT_METRICS_PORT, purpose: "metrics" },
    ];
}

/** The flows every edge cluster has once: the agents' namespace scrapes Fluent Bit. */
export function edgeClusterFlows(agents: Workload, fluentBit: Workload): Flow[] {
    return [{ from: agents, to: fluentBit, port: FLUENT_BIT_METRICS_PORT, purpose: "metrics" }];
}

/** The NetworkPolicy peer that names `w` in a policy of namespace `policyNamespace`. */
export function peerOf(w: Workload, policyNamespace: string): Peer {
    if (w.labels === undefined) return { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": w.namespace } } };
    if (w.namespace === policyNamespace) return { podSelector: { matchLabels: { ...w.labels } } };
    return { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": w.namespace } }, podSelector: { matchLabels: { ...w.labels } } };
}

/** Who may reach `to` for `purpose`: the peers of its ingress rule. */
export function ingressPeers(flows: Flow[], to: Workload, purpose: Purpose): Peer[] {
    return flows.filter((f) => f.to.id === to.id && f.purpose === purpose).map((f) => peerOf(f.from, to.namespace));
}

/** Whom `from` may reach for `purpose`: the peers of its egress rule. */
export function egressPeers(flows: Flow[], from: Workload, purpose: Purpose): Peer[] {
    return flows.filter((f) => f.from.id === from.id && f.purpose === purpose).map((f) => peerOf(f.to, from.namespace));
}
