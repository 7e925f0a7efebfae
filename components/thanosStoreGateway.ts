import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { MEMCACHED_PORT } from "./memcached";
import type { Resources } from "../lib/config";
import { commonLabels, resourceRequirements, restrictedPodSecurityContext, selectorLabels, spreadOverNodes } from "../lib/k8s";
import { stringify } from "yaml";
import { OBJSTORE_FLAG, THANOS_PORTS, ThanosTracing, dataClaim, dnsSrv, memcachedClientConfig, objstoreVolume, thanosBaseArgs, thanosContainer, thanosServicePorts, tracingArgs, tracingEgress } from "../lib/thanos";

export interface ThanosStoreGatewayArgs {
    readonly namespace: pulumi.Input<string>;
    readonly namespaceName: string;
    readonly image: string;
    readonly version: string;
    readonly imagePullSecrets?: { name: string }[];
    readonly storageClass: string;
    readonly replicas: number;
    readonly storageSize: string;
    readonly resources: Resources;
    readonly objstoreSecretName: pulumi.Input<string>;
    /** Per Series request: `--store.limits.request-series` and `--store.limits.request-samples` (0 = none). */
    readonly limits: { requestSeries: number; requestSamples: number };
    /** The store cache fleet (Thanos DNS SD addresses) and its largest item. */
    readonly cache: { addresses: string[]; maxItemSizeMiB: number };
    readonly objectStorageCidr: string;
    readonly objectStoragePort: number;
    /** Pods allowed to read the StoreAPI. */
    readonly storeApiClients: k8s.types.input.networking.v1.NetworkPolicyPeer[];
    readonly metricsScrapers: k8s.types.input.networking.v1.NetworkPolicyPeer[];
    /** The store cache's pods (egress to memcached). */
    readonly cachePeers: k8s.types.input.networking.v1.NetworkPolicyPeer[];
    /** Where to send traces (`central.tracing`); absent: no tracing flag and no egress to a collector. */
    readonly tracing?: ThanosTracing;
}

export const STORE_NAME = "thanos-store";

/** `--index-cache.config`: postings and series in memcached, shared by every Store Gateway replica. */
export function indexCacheConfig(cache: ThanosStoreGatewayArgs["cache"]): string {
    return stringify({ type: "MEMCACHED", config: memcachedClientConfig(cache.addresses, cache.maxItemSizeMiB) });
}

/**
 * `--store.caching-bucket.config`: chunks and block metadata in memcached, kube-thanos' values (the Thanos docs'
 * example at v0.42.4, docs/components/store.md "Caching Bucket"): chunks cached in 16 kB subranges for a day, the
 * bucket listing for 5 minutes, meta.json files for a day.
 */
export function cachingBucketConfig(cache: ThanosStoreGatewayArgs["cache"]): string {
    return stringify({
        type: "MEMCACHED",
        config: memcachedClientConfig(cache.addresses, cache.maxItemSizeMiB),
        chunk_subrange_size: 16000,
        max_chunks_get_range_requests: 3,
        chunk_object_attrs_ttl: "24h",
        chunk_subrange_ttl: "24h",
        blocks_iter_ttl: "5m",
        metafile_exists_ttl: "2h",
        metafile_doesnt_exist_ttl: "15m",
        metafile_content_ttl: "24h",
        metafile_max_size: "1MiB",
    });
}

/** Store Gateway: serves the blocks in the bucket (everything older than Receive's local retention). */
export class ThanosStoreGateway extends pulumi.ComponentResource {
    /** StoreAPI address for Thanos Query. */
    public readonly storeEndpoint: string;

    constructor(name: string, args: ThanosStoreGatewayArgs, opts?: pulumi.ComponentResourceOptions) {
        super("agent-receiver:thanos:ThanosStoreGateway", name, {}, opts);
        const selector = selectorLabels(STORE_NAME, name, "object-store-gateway");
        const labels = commonLabels(STORE_NAME, name, "object-store-gateway", args.version);
        const objstore = objstoreVolume(args.objstoreSecretName);
        this.storeEndpoint = dnsSrv("grpc", STORE_NAME, args.namespaceName);

        new k8s.core.v1.Service(
            `${name}-service`,
            {
                metadata: { name: STORE_NAME, namespace: args.namespace, labels },
                spec: {
                    clusterIP: "None",
                    selector,
                    ports: thanosServicePorts(),
                },
            },
            { parent: this },
        );
        const sargs = [
            ...thanosBaseArgs("store"),
            "--data-dir=/var/thanos/store",
            OBJSTORE_FLAG,
            `--index-cache.config=${indexCacheConfig(args.cache)}`,
            // Hidden flag (experimental upstream), as kube-thanos uses it; test/thanosFlags.test.ts names its line.
            `--store.caching-bucket.config=${cachingBucketConfig(args.cache)}`,
            // One query cannot take a pod down: past these, the Series call fails instead.
            `--store.limits.request-series=${args.limits.requestSeries}`,
            `--store.limits.request-samples=${args.limits.requestSamples}`,
            "--store.enable-index-header-lazy-reader",
            // Blocks younger than this are still on Receive; skipping them avoids reading half-uploaded data twice.
            "--ignore-deletion-marks-delay=24h",
            ...tracingArgs(args.tracing, STORE_NAME),
        ];
        new k8s.apps.v1.StatefulSet(
            `${name}-statefulset`,
            {
                metadata: { name: STORE_NAME, namespace: args.namespace, labels },
                spec: {
                    replicas: args.replicas,
                    serviceName: STORE_NAME,
                    podManagementPolicy: "Parallel",
                    selector: { matchLabels: selector },
                    persistentVolumeClaimRetentionPolicy: { whenDeleted: "Retain", whenScaled: "Retain" },
                    template: {
                        metadata: { labels },
                        spec: {
                            automountServiceAccountToken: false,
                            imagePullSecrets: args.imagePullSecrets,
                            securityContext: restrictedPodSecurityContext(),
                            affinity: spreadOverNodes(selector),
                            terminationGracePeriodSeconds: 120,
                            containers: [
                                thanosContainer({
                                    name: "thanos-store",
                                    image: args.image,
                                    args: sargs,
                                    resources: resourceRequirements(args.resources),
                                    volumeMounts: [{ name: "data", mountPath: "/var/thanos/store" }, objstore.mount],
                                }),
                            ],
                            volumes: [objstore.volume],
                        },
                    },
                    volumeClaimTemplates: [dataClaim(args.storageClass, args.storageSize, selector)],
                },
            },
            { parent: this },
        );
        new k8s.networking.v1.NetworkPolicy(
            `${name}-netpol`,
            {
                metadata: { name: STORE_NAME, namespace: args.namespace, labels },
                spec: {
                    podSelector: { matchLabels: selector },
                    policyTypes: ["Ingress", "Egress"],
                    ingress: [
                        { from: args.storeApiClients, ports: [{ protocol: "TCP", port: THANOS_PORTS.grpc }] },
                        { from: args.metricsScrapers, ports: [{ protocol: "TCP", port: THANOS_PORTS.http }] },
                    ],
                    egress: [
                        { to: [{ ipBlock: { cidr: args.objectStorageCidr } }], ports: [{ protocol: "TCP", port: args.objectStoragePort }] },
                        { to: args.cachePeers, ports: [{ protocol: "TCP", port: MEMCACHED_PORT }] },
                        ...tracingEgress(args.tracing),
                    ],
                },
            },
            { parent: this },
        );
        this.registerOutputs({ storeEndpoint: this.storeEndpoint });
    }
}
