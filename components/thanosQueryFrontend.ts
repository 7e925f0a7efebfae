import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { stringify } from "yaml";
import type { Resources } from "../lib/config";
import { commonLabels, resourceRequirements, restrictedPodSecurityContext, selectorLabels, spreadOverNodes } from "../lib/k8s";
import { THANOS_PORTS, ThanosTracing, memcachedClientConfig, thanosBaseArgs, thanosContainer, tracingArgs, tracingEgress } from "../lib/thanos";

export interface ThanosQueryFrontendArgs {
    readonly namespace: pulumi.Input<string>;
    readonly namespaceName: string;
    readonly image: string;
    readonly version: string;
    readonly imagePullSecrets?: { name: string }[];
    readonly replicas: number;
    readonly resources: Resources;
    /** Thanos Query HTTP URL. */
    readonly downstreamUrl: string;
    /** Memcached addresses (Thanos DNS SD syntax). */
    readonly memcachedAddresses: string[];
    readonly maxItemSizeMiB: number;
    /** `--query-range.split-interval`: a long range is split into such steps so cached steps are reused. */
    readonly splitInterval: string;
    /** Pods allowed to query (Grafana, Ruler). */
    readonly clients: k8s.types.input.networking.v1.NetworkPolicyPeer[];
    /** Egress peers: Thanos Query and memcached. */
    readonly downstream: k8s.types.input.networking.v1.NetworkPolicyPeer[];
    readonly cache: k8s.types.input.networking.v1.NetworkPolicyPeer[];
    readonly metricsScrapers: k8s.types.input.networking.v1.NetworkPolicyPeer[];
    /** Where to send traces (`central.tracing`); absent: no tracing flag and no egress to a collector. */
    readonly tracing?: ThanosTracing;
}

export const QUERY_FRONTEND_NAME = "thanos-query-frontend";
/** kube-thanos' grace period for the frontend (thanos-query-frontend-deployment.yaml). */
export const QUERY_FRONTEND_TERMINATION_GRACE_SECONDS = 120;

/** Thanos' cache config for memcached (the results cache). */
export function memcachedCacheConfig(addresses: string[], maxItemSizeMiB: number): string {
    return stringify({ type: "MEMCACHED", config: memcachedClientConfig(addresses, maxItemSizeMiB) });
}

/**
 * Query Frontend: splits long range queries by day, retries, and caches results in memcached. It has no
 * authentication of its own, so it is never exposed outside the cluster; Grafana reaches it in-cluster.
 */
export class ThanosQueryFrontend extends pulumi.ComponentResource {
    public readonly httpUrl: string;

    constructor(name: string, args: ThanosQueryFrontendArgs, opts?: pulumi.ComponentResourceOptions) {
        super("agent-receiver:thanos:ThanosQueryFrontend", name, {}, opts);
        const selector = selectorLabels(QUERY_FRONTEND_NAME, name, "query-cache");
        const labels = commonLabels(QUERY_FRONTEND_NAME, name, "query-cache", args.version);
        this.httpUrl = `http://${QUERY_FRONTEND_NAME}.${args.namespaceName}.svc.cluster.local:${THANOS_PORTS.http}`;
        const cache = memcachedCacheConfig(args.memcachedAddresses, args.maxItemSizeMiB);

        const fargs = [
            ...thanosBaseArgs("query-frontend", false),
            `--query-frontend.downstream-url=${args.downstreamUrl}`,
            `--query-range.split-interval=${args.splitInterval}`,
            "--query-range.max-retries-per-request=3",
            `--query-range.response-cache-config=${cache}`,
            `--labels.split-interval=${args.splitInterval}`,
            `--labels.response-cache-config=${cache}`,
            "--query-frontend.compress-responses",
            "--cache-compression-type=snappy",
            // Log queries slower than the SLO, to find what the latency alert fires on.
            "--query-frontend.log-queries-longer-than=5s",
            ...tracingArgs(args.tracing, QUERY_FRONTEND_NAME),
        ];

        new k8s.apps.v1.Deployment(
            `${name}-deployment`,
            {
                metadata: { name: QUERY_FRONTEND_NAME, namespace: args.namespace, labels },
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
                            // As kube-thanos: in-flight queries (up to --query.timeout behind it) finish on a rollout
                            // instead of being cut after Kubernetes' default 30 s.
                            terminationGracePeriodSeconds: QUERY_FRONTEND_TERMINATION_GRACE_SECONDS,
                            containers: [
                                thanosContainer({
                                    name: "thanos-query-frontend",
                                    image: args.image,
                                    args: fargs,
                                    grpc: false,
                                    resources: resourceRequirements(args.resources),
                                }),
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
                metadata: { name: QUERY_FRONTEND_NAME, namespace: args.namespace, labels },
                spec: { type: "ClusterIP", selector, ports: [{ name: "http", port: THANOS_PORTS.http, targetPort: "http" }] },
            },
            { parent: this },
        );
        new k8s.networking.v1.NetworkPolicy(
            `${name}-netpol`,
            {
                metadata: { name: QUERY_FRONTEND_NAME, namespace: args.namespace, labels },
                spec: {
                    podSelector: { matchLabels: selector },
                    policyTypes: ["Ingress", "Egress"],
                    ingress: [{ from: [...args.clients, ...args.metricsScrapers], ports: [{ protocol: "TCP", port: THANOS_PORTS.http }] }],
                    egress: [
                        { to: args.downstream, ports: [{ protocol: "TCP", port: THANOS_PORTS.http }] },
                        { to: args.cache, ports: [{ protocol: "TCP", port: 11211 }] },
                        ...tracingEgress(args.tracing),
                    ],
                },
            },
            { parent: this },
        );
        this.registerOutputs({ httpUrl: this.httpUrl });
    }
}
