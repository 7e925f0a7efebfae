import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { stringify } from "yaml";
import type { Resources } from "../lib/config";
import { commonLabels, resourceRequirements, restrictedPodSecurityContext, selectorLabels, spreadOverNodes } from "../lib/k8s";
import { REPLICA_LABEL, THANOS_PORTS, ThanosTracing, thanosBaseArgs, thanosContainer, thanosServicePorts, tracingArgs, tracingEgress } from "../lib/thanos";

export interface ThanosQueryArgs {
    readonly namespace: pulumi.Input<string>;
    readonly namespaceName: string;
    readonly image: string;
    readonly version: string;
    readonly imagePullSecrets?: { name: string }[];
    readonly replicas: number;
    readonly resources: Resources;
    /** StoreAPI addresses (Thanos DNS SD syntax, e.g. `dnssrv+_grpc._tcp.thanos-receive-headless…`). */
    readonly storeEndpoints: string[];
    /**
     * Labels that differ only between replicas of the same data: Receive's `replica`, and the central Prometheus
     * HA pair's `prometheus_replica`. Query merges series that differ only in these.
     */
    readonly replicaLabels?: string[];
    /** Pods allowed to query (Query Frontend, Grafana, Receive meta-monitoring, Ruler). */
    readonly clients: k8s.types.input.networking.v1.NetworkPolicyPeer[];
    /** Pods that serve the StoreAPI (egress targets). */
    readonly stores: k8s.types.input.networking.v1.NetworkPolicyPeer[];
    readonly metricsScrapers: k8s.types.input.networking.v1.NetworkPolicyPeer[];
    /** Where to send traces (`central.tracing`); absent: no tracing flag and no egress to a collector. */
    readonly tracing?: ThanosTracing;
}

export const QUERY_NAME = "thanos-query";

/** In-cluster HTTP URL of Thanos Query in a namespace. */
export function queryHttpUrl(namespace: string): string {
    return `http://${QUERY_NAME}.${namespace}.svc.cluster.local:${THANOS_PORTS.http}`;
}

/** The `--endpoint.sd-config` content (the `--endpoint` flag is deprecated). */
export function endpointSdConfig(addresses: string[]): string {
    return stringify({ endpoints: addresses.map((address) => ({ address })) });
}

/** Thanos Query: the global view over Receive (recent data) and the Store Gateway (the bucket), deduplicated. */
export class ThanosQuery extends pulumi.ComponentResource {
    /** In-cluster HTTP URL (for the Query Frontend and meta-monitoring). */
    public readonly httpUrl: string;

    constructor(name: string, args: ThanosQueryArgs, opts?: pulumi.ComponentResourceOptions) {
        super("agent-receiver:thanos:ThanosQuery", name, {}, opts);
        const selector = selectorLabels(QUERY_NAME, name, "query-layer");
        const labels = commonLabels(QUERY_NAME, name, "query-layer", args.version);
        this.httpUrl = queryHttpUrl(args.namespaceName);
        const replicaLabels = args.replicaLabels ?? [REPLICA_LABEL, "prometheus_replica"];

        const qargs = [
            ...thanosBaseArgs("query"),
            ...replicaLabels.map((l) => `--query.replica-label=${l}`),
            `--endpoint.sd-config=${endpointSdConfig(args.storeEndpoints)}`,
            // Long ranges read downsampled blocks when the step allows it.
            "--query.auto-downsampling",
            "--query.timeout=2m",
            "--query.promql-engine=thanos",
            ...tracingArgs(args.tracing, QUERY_NAME),
        ];

        new k8s.apps.v1.Deployment(
            `${name}-deployment`,
            {
                metadata: { name: QUERY_NAME, namespace: args.namespace, labels },
                spec: {
                    replicas: args.replicas,
                    selector: { matchLabels: selector },
                    template: {
                        metadata: { labels },
                        spec: {
                            automountServiceAccountToken: false,
                            imagePullSecrets: args.imagePullSecrets,
                            securityContext: restrictedPodSecurityContext(),
                            affinity: spreadOverNodes(selector),
                            terminationGracePeriodSeconds: 120,
                            containers: [
                                thanosContainer({ name: "thanos-query", image: args.image, args: qargs, resources: resourceRequirements(args.resources) }),
                            ],
                        },
                    },
                },
            },
            { parent: this },
        );
        new k8s.core.v1.Service(
            `${name}-service`,
            {
                metadata: { name: QUERY_NAME, namespace: args.namespace, labels },
                spec: {
                    selector,
                    ports: thanosServicePorts(),
                },
            },
            { parent: this },
        );
        new k8s.networking.v1.NetworkPolicy(
            `${name}-netpol`,
            {
                metadata: { name: QUERY_NAME, namespace: args.namespace, labels },
                spec: {
                    podSelector: { matchLabels: selector },
                    policyTypes: ["Ingress", "Egress"],
                    ingress: [
                        { from: args.clients, ports: [{ protocol: "TCP", port: THANOS_PORTS.http }, { protocol: "TCP", port: THANOS_PORTS.grpc }] },
                        { from: args.metricsScrapers, ports: [{ protocol: "TCP", port: THANOS_PORTS.http }] },
                    ],
                    egress: [{ to: args.stores, ports: [{ protocol: "TCP", port: THANOS_PORTS.grpc }] }, ...tracingEgress(args.tracing)],
                },
            },
            { parent: this },
        );
        this.registerOutputs({ httpUrl: this.httpUrl });
    }
}
