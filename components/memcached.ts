import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { commonLabels, hardenedContainer, restrictedPodSecurityContext, selectorLabels, spreadOverNodes } from "../lib/k8s";
import { dnsSrv } from "../lib/thanos";

export interface MemcachedArgs {
    readonly namespace: pulumi.Input<string>;
    readonly namespaceName: string;
    readonly image: string;
    readonly exporterImage: string;
    readonly version: string;
    readonly imagePullSecrets?: { name: string }[];
    /** Cache pods (`central.memcached.replicas`; the default lives in lib/config.ts). */
    readonly replicas: number;
    /** Item memory in MiB (`memcached -m`). */
    readonly memoryMiB: number;
    /** Largest item in MiB (`memcached -I`). */
    readonly maxItemSizeMiB: number;
    /**
     * What the cache serves (`app.kubernetes.io/component`): the Query Frontend's results (`query-cache`, the default)
     * or the Store Gateway's index and chunks (`store-cache`). Separate fleets, so chunks never evict query results.
     */
    readonly role?: MemcachedRole;
    /** Pods allowed to use the cache. */
    readonly clients: k8s.types.input.networking.v1.NetworkPolicyPeer[];
    readonly metricsScrapers: k8s.types.input.networking.v1.NetworkPolicyPeer[];
}

export const MEMCACHED_PORT = 11211;
export type MemcachedRole = "query-cache" | "store-cache";
/** Pod labels of a cache fleet by role: what the network table and the PodMonitors select it by. */
export function memcachedPodLabels(role: MemcachedRole): Record<string, string> {
    return { "app.kubernetes.io/name": "memcached", "app.kubernetes.io/component": role };
}
export const EXPORTER_PORT = 9150;
/** uid of the `memcache` user in the official image. */
const MEMCACHE_UID = 11211;

/**
 * Memcached for the Query Frontend's results cache or the Store Gateway's index and chunk cache, declared here because there is no official chart and Bitnami's
 * images are no longer free. A StatefulSet behind a headless Service whose port is named `client`, so Thanos finds
 * every instance with `dnssrv+_client._tcp…`.
 */
export class Memcached extends pulumi.ComponentResource {
    /** Thanos `addresses` entry for this cache. */
    public readonly address: string;

    constructor(name: string, args: MemcachedArgs, opts?: pulumi.ComponentResourceOptions) {
        super("agent-receiver:cache:Memcached", name, {}, opts);
        const role = args.role ?? "query-cache";
        const selector = selectorLabels("memcached", name, role);
        const labels = commonLabels("memcached", name, role, args.version);
        const service = name;
        this.address = dnsSrv("client", service, args.namespaceName);

        new k8s.core.v1.Service(
            `${name}-headless`,
            {
                metadata: { name: service, namespace: args.namespace, labels },
                spec: {
                    clusterIP: "None",
                    selector,
                    ports: [
                        { name: "client", port: MEMCACHED_PORT, targetPort: "client" },
                        { name: "metrics", port: EXPORTER_PORT, targetPort: "metrics" },
                    ],
                },
            },
            { parent: this },
        );

        // Container limit: item memory plus connection buffers and slab overhead.
        const limitMiB = Math.ceil(args.memoryMiB * 1.2) + 64;
        new k8s.apps.v1.StatefulSet(
            `${name}-statefulset`,
            {
                metadata: { name: service, namespace: args.namespace, labels },
                spec: {
                    replicas: args.replicas,
                    serviceName: service,
                    podManagementPolicy: "Parallel",
                    selector: { matchLabels: selector },
                    template: {
                        metadata: { labels },
                        spec: {
                            automountServiceAccountToken: false,
                            imagePullSecrets: args.imagePullSecrets,
                            securityContext: restrictedPodSecurityContext(MEMCACHE_UID),
                            affinity: spreadOverNodes(selector),
                            containers: [
                                hardenedContainer({
                                    name: "memcached",
                                    image: args.image,
                                    args: ["-m", `${args.memoryMiB}`, "-I", `${args.maxItemSizeMiB}m`, "-c", "4096", "-t", "4"],
                                    ports: [{ name: "client", containerPort: MEMCACHED_PORT }],
                                    resources: {
                                        requests: { cpu: "100m", memory: `${limitMiB}Mi` },
                                        limits: { memory: `${limitMiB}Mi` },
                                    },
                                    livenessProbe: { tcpSocket: { port: "client" }, periodSeconds: 10 },
                                    readinessProbe: { tcpSocket: { port: "client" }, periodSeconds: 5 },
                                }),
                                hardenedContainer({
                                    name: "exporter",
                                    image: args.exporterImage,
                                    args: [`--memcached.address=localhost:${MEMCACHED_PORT}`, `--web.listen-address=:${EXPORTER_PORT}`],
                                    ports: [{ name: "metrics", containerPort: EXPORTER_PORT }],
                                    resources: { requests: { cpu: "10m", memory: "32Mi" }, limits: { memory: "64Mi" } },
                                    readinessProbe: { httpGet: { path: "/metrics", port: "metrics" }, periodSeconds: 10 },
                                }),
                            ],
                        },
                    },
                },
            },
            { parent: this },
        );

        new k8s.networking.v1.NetworkPolicy(
            `${name}-netpol`,
            {
                metadata: { name: service, namespace: args.namespace, labels },
                spec: {
                    podSelector: { matchLabels: selector },
                    policyTypes: ["Ingress"],
                    ingress: [
                        { from: args.clients, ports: [{ protocol: "TCP", port: MEMCACHED_PORT }] },
                        { from: args.metricsScrapers, ports: [{ protocol: "TCP", port: EXPORTER_PORT }] },
                    ],
                },
            },
            { parent: this },
        );
        this.registerOutputs({ address: this.address });
    }
}
