import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { stringify } from "yaml";
import { Resources, TenantLimits, receiveHeadSeriesLimit } from "../lib/config";
import { generateHashring, receiveEndpoint } from "../lib/hashring";
import { commonLabels, podIdentityEnv, requireDistinctNodes, resourceRequirements, restrictedPodSecurityContext, selectorLabels, spreadOverZones } from "../lib/k8s";
import { OBJSTORE_FLAG, REPLICA_LABEL, TENANT_LABEL, THANOS_PORTS, ThanosTracing, dataClaim, objstoreVolume, thanosBaseArgs, thanosContainer, tracingArgs, tracingEgress } from "../lib/thanos";

export interface ThanosReceiveArgs {
    readonly namespace: pulumi.Input<string>;
    /** Plain namespace name, needed to build each pod's DNS endpoint in the hashring. */
    readonly namespaceName: string;
    readonly image: string;
    readonly version: string;
    readonly imagePullSecrets?: { name: string }[];
    readonly storageClass: string;
    /** Receivers in the hashring. */
    readonly replicas: number;
    /** Copies of each series (write quorum floor(RF/2)+1); lib/config.ts checks it is odd and ≤ replicas. */
    readonly replicationFactor: number;
    readonly localRetention: string;
    readonly outOfOrderWindow: string;
    /** `--tsdb.too-far-in-future.time-window`: samples further ahead of Receive's clock are refused. */
    readonly tooFarInFutureWindow: string;
    readonly storageSize: string;
    readonly terminationGracePeriodSeconds: number;
    readonly defaultTenant: string;
    readonly resources: Resources;
    readonly limits: { default: TenantLimits; tenants: Record<string, TenantLimits> };
    /** Secret with `objstore.yml`. */
    readonly objstoreSecretName: pulumi.Input<string>;
    /** Receive's server certificate and key, and the CA that signs writer certificates. */
    readonly tls: { certPem: pulumi.Input<string>; keyPem: pulumi.Input<string>; caCertPem: pulumi.Input<string> };
    /** Thanos Query URL Receive asks for active series per tenant (head series limits). */
    readonly metaMonitoringUrl?: string;
    /** External exposure of the remote-write port. */
    readonly exposure: { hostname: string; loadBalancerIP?: string };
    /** Who may write: the edges' address ranges (through the LoadBalancer) and in-cluster writers (the central Prometheus). */
    readonly remoteWriteSources: { readonly cidrs: string[]; readonly peers: k8s.types.input.networking.v1.NetworkPolicyPeer[] };
    /** CIDR of the object storage, for the egress allow. */
    readonly objectStorageCidr: string;
    readonly objectStoragePort: number;
    /** Pods (namespace + pod labels) allowed to read the StoreAPI (Thanos Query, Ruler). */
    readonly storeApiClients: k8s.types.input.networking.v1.NetworkPolicyPeer[];
    /** Pods allowed to scrape /metrics. */
    readonly metricsScrapers: k8s.types.input.networking.v1.NetworkPolicyPeer[];
    /** Where to send traces (`central.tracing`); absent: no tracing flag and no egress to a collector. */
    readonly tracing?: ThanosTracing;
}

export const RECEIVE_NAME = "thanos-receive";
/** Headless Service that gives each receiver the stable DNS name its hashring endpoint carries. */
export const RECEIVE_HEADLESS_SERVICE = `${RECEIVE_NAME}-headless`;
/** The hashring ConfigMap and its key: the file every receiver watches (`--receive.hashrings-file`). */
export const RECEIVE_HASHRING_CONFIGMAP = `${RECEIVE_NAME}-hashring`;
export const RECEIVE_HASHRING_KEY = "hashrings.json";

/**
 * Thanos' limits file from the config's per-tenant limits. Unset keys inherit Thanos' defaults (no limit). Head series
 * are configured in unique series and written as Thanos counts them (times the replication factor).
 */
export function limitsConfig(limits: ThanosReceiveArgs["limits"], replicationFactor: number, metaMonitoringUrl?: string): string {
    const one = (l: TenantLimits) => {
        const request: Record<string, number> = {};
        if (l.requestSizeBytes !== undefined) request.size_bytes_limit = l.requestSizeBytes;
        if (l.requestSeries !== undefined) request.series_limit = l.requestSeries;
        if (l.requestSamples !== undefined) request.samples_limit = l.requestSamples;
        const out: Record<string, unknown> = {};
        if (Object.keys(request).length > 0) out.request = request;
        if (l.uniqueHeadSeries !== undefined) out.head_series_limit = receiveHeadSeriesLimit(l.uniqueHeadSeries, replicationFactor);
        return out;
    };
    const global: Record<string, unknown> = { max_concurrency: 30 };
    if (metaMonitoringUrl) {
        global.meta_monitoring_url = metaMonitoringUrl;
        // The limiter reads the `tenant` label of the result: the label of Receive's per-tenant TSDB metrics.
        global.meta_monitoring_limit_query = `sum(prometheus_tsdb_head_series{job="${RECEIVE_NAME}"}) by (tenant)`;
    }
    return stringify({
        write: {
            global,
            default: one(limits.default),
            tenants: Object.fromEntries(Object.entries(limits.tenants).map(([t, l]) => [t, one(l)])),
        },
    });
}

/**
 * Thanos Receive: a StatefulSet of ingesting receivers in one ketama hashring, with replication, per-tenant
 * limits, mTLS on remote write and the tenant taken from the client certificate.
 */
export class ThanosReceive extends pulumi.ComponentResource {
    /** In-cluster gRPC StoreAPI address for Thanos Query (DNS SRV over the headless Service). */
    public readonly headlessServiceName: string;
    /** Remote-write URL edges use. */
    public readonly remoteWriteUrl: string;
    /** In-cluster remote-write URL (the central Prometheus uses it). */
    public readonly internalRemoteWriteUrl: string;
    /** The hashring as deployed (JSON). */
    public readonly hashring: string;

    constructor(name: string, args: ThanosReceiveArgs, opts?: pulumi.ComponentResourceOptions) {
        super("agent-receiver:thanos:ThanosReceive", name, {}, opts);
        const ns = args.namespace;
        const selector = selectorLabels(RECEIVE_NAME, name, "database-write-hashring");
        const labels = commonLabels(RECEIVE_NAME, name, "database-write-hashring", args.version);
        const headless = RECEIVE_HEADLESS_SERVICE;
        this.headlessServiceName = headless;

        this.hashring = JSON.stringify(
            generateHashring({
                statefulSet: RECEIVE_NAME,
                headlessService: headless,
                namespace: args.namespaceName,
                replicas: args.replicas,
                replicationFactor: args.replicationFactor,
                grpcPort: THANOS_PORTS.grpc,
            }),
            null,
            2,
        );

        new k8s.core.v1.ServiceAccount(
            `${name}-sa`,
            { metadata: { name: RECEIVE_NAME, namespace: ns, labels }, automountServiceAccountToken: false },
            { parent: this },
        );

        // Stable names: Receive watches these files and reloads them in place. A generated name would change the
        // pod template on every ring change and restart every receiver at once.
        const hashringCm = new k8s.core.v1.ConfigMap(
            `${name}-hashring`,
            { metadata: { name: RECEIVE_HASHRING_CONFIGMAP, namespace: ns, labels }, data: { [RECEIVE_HASHRING_KEY]: this.hashring } },
            { parent: this },
        );
        const limitsCm = new k8s.core.v1.ConfigMap(
            `${name}-limits`,
            {
                metadata: { name: `${RECEIVE_NAME}-limits`, namespace: ns, labels },
                data: { "limits.yaml": limitsConfig(args.limits, args.replicationFactor, args.metaMonitoringUrl) },
            },
            { parent: this },
        );
        const tlsSecret = new k8s.core.v1.Secret(
            `${name}-tls`,
            {
                metadata: { name: `${RECEIVE_NAME}-tls`, namespace: ns, labels },
                type: "Opaque",
                stringData: {
                    "tls.crt": args.tls.certPem,
                    "tls.key": pulumi.secret(args.tls.keyPem),
                    "ca.crt": args.tls.caCertPem,
                },
            },
            { parent: this },
        );

        const ports = [
            { name: "grpc", port: THANOS_PORTS.grpc, targetPort: "grpc" },
            { name: "http", port: THANOS_PORTS.http, targetPort: "http" },
            { name: "remote-write", port: THANOS_PORTS.remoteWrite, targetPort: "remote-write" },
        ];
        new k8s.core.v1.Service(
            `${name}-headless`,
            {
                metadata: { name: headless, namespace: ns, labels },
                // Peers must resolve each other while starting, before they are ready.
                spec: { clusterIP: "None", publishNotReadyAddresses: true, selector, ports },
            },
            { parent: this },
        );
        const internal = new k8s.core.v1.Service(
            `${name}-internal`,
            { metadata: { name: RECEIVE_NAME, namespace: ns, labels }, spec: { type: "ClusterIP", selector, ports } },
            { parent: this },
        );
        // The write path from the edges: a LoadBalancer straight to Receive (Cilium L2 announcement), so that TLS
        // reaches Receive unterminated and it sees the writer's client certificate.
        new k8s.core.v1.Service(
            `${name}-remote-write`,
            {
                metadata: {
                    name: `${RECEIVE_NAME}-remote-write`,
                    namespace: ns,
                    labels,
                    annotations: {
                        "external-dns.alpha.kubernetes.io/hostname": args.exposure.hostname,
                        ...(args.exposure.loadBalancerIP ? { "lbipam.cilium.io/ips": args.exposure.loadBalancerIP } : {}),
                    },
                },
                spec: {
                    type: "LoadBalancer",
                    // Only the edges' ranges, enforced at the LoadBalancer; the client address is kept (Local) so
                    // that the NetworkPolicy below sees and checks it too.
                    loadBalancerSourceRanges: args.remoteWriteSources.cidrs,
                    externalTrafficPolicy: "Local",
                    selector,
                    ports: [{ name: "remote-write", port: 443, targetPort: "remote-write", protocol: "TCP" }],
                },
            },
            { parent: this },
        );
        this.remoteWriteUrl = `https://${args.exposure.hostname}/api/v1/receive`;
        this.internalRemoteWriteUrl = `https://${RECEIVE_NAME}.${args.namespaceName}.svc.cluster.local:${THANOS_PORTS.remoteWrite}/api/v1/receive`;

        const args_ = [
            ...thanosBaseArgs("receive"),
            `--remote-write.address=0.0.0.0:${THANOS_PORTS.remoteWrite}`,
            "--remote-write.server-tls-cert=/etc/thanos/tls/tls.crt",
            "--remote-write.server-tls-key=/etc/thanos/tls/tls.key",
            // A client certificate signed by the platform CA is required on every write.
            "--remote-write.server-tls-client-ca=/etc/thanos/tls/ca.crt",
            "--receive.tenant-certificate-field=organization",
            `--receive.tenant-label-name=${TENANT_LABEL}`,
            `--receive.default-tenant-id=${args.defaultTenant}`,
            `--receive.replication-factor=${args.replicationFactor}`,
            "--receive.hashrings-algorithm=ketama",
            `--receive.hashrings-file=/etc/thanos/hashring/${RECEIVE_HASHRING_KEY}`,
            `--receive.local-endpoint=${receiveEndpoint("$(POD_NAME)", { headlessService: headless, namespace: "$(POD_NAMESPACE)", grpcPort: THANOS_PORTS.grpc })}`,
            "--receive.limits-config-file=/etc/thanos/limits/limits.yaml",
            `--label=${REPLICA_LABEL}="$(POD_NAME)"`,
            '--label=receive="true"',
            "--tsdb.path=/var/thanos/receive",
            `--tsdb.retention=${args.localRetention}`,
            `--tsdb.out-of-order.time-window=${args.outOfOrderWindow}`,
            `--tsdb.too-far-in-future.time-window=${args.tooFarInFutureWindow}`,
            "--tsdb.wal-compression",
            OBJSTORE_FLAG,
            ...tracingArgs(args.tracing, RECEIVE_NAME),
        ];

        const objstore = objstoreVolume(args.objstoreSecretName);
        const sts = new k8s.apps.v1.StatefulSet(
            `${name}-statefulset`,
            {
                metadata: { name: RECEIVE_NAME, namespace: ns, labels },
                spec: {
                    replicas: args.replicas,
                    serviceName: headless,
                    // All receivers start together: the ring needs a write quorum of them.
                    podManagementPolicy: "Parallel",
                    selector: { matchLabels: selector },
                    // PVCs outlive the StatefulSet (deleting it, or scaling down, keeps the data).
                    persistentVolumeClaimRetentionPolicy: { whenDeleted: "Retain", whenScaled: "Retain" },
                    template: {
                        metadata: { labels },
                        spec: {
                            serviceAccountName: RECEIVE_NAME,
                            automountServiceAccountToken: false,
                            imagePullSecrets: args.imagePullSecrets,
                            securityContext: restrictedPodSecurityContext(),
                            // Flushing and uploading the head on shutdown takes minutes.
                            terminationGracePeriodSeconds: args.terminationGracePeriodSeconds,
                            // Hosts: required (two receivers on one node, and losing it breaks the write quorum).
                            // Zones: preferred. With exactly as many nodes as replicas, a drained node's receiver stays
                            // Pending until the node is back (docs/ko/scaling-receive.md): the ring runs on RF-1 copies.
                            affinity: requireDistinctNodes(selector),
                            topologySpreadConstraints: spreadOverZones(selector),
                            containers: [
                                thanosContainer({
                                    name: "thanos-receive",
                                    image: args.image,
                                    args: args_,
                                    env: podIdentityEnv,
                                    resources: resourceRequirements(args.resources),
                                    extraPorts: [{ name: "remote-write", containerPort: THANOS_PORTS.remoteWrite }],
                                    volumeMounts: [
                                        { name: "data", mountPath: "/var/thanos/receive" },
                                        { name: "hashring", mountPath: "/etc/thanos/hashring", readOnly: true },
                                        { name: "limits", mountPath: "/etc/thanos/limits", readOnly: true },
                                        { name: "tls", mountPath: "/etc/thanos/tls", readOnly: true },
                                        objstore.mount,
                                    ],
                                }),
                            ],
                            volumes: [
                                { name: "hashring", configMap: { name: hashringCm.metadata.name } },
                                { name: "limits", configMap: { name: limitsCm.metadata.name } },
                                { name: "tls", secret: { secretName: tlsSecret.metadata.name } },
                                objstore.volume,
                            ],
                        },
                    },
                    volumeClaimTemplates: [dataClaim(args.storageClass, args.storageSize, selector)],
                },
            },
            { parent: this, dependsOn: [internal] },
        );

        new k8s.policy.v1.PodDisruptionBudget(
            `${name}-pdb`,
            // One receiver down still leaves the write quorum floor(RF/2)+1 for RF=3.
            { metadata: { name: RECEIVE_NAME, namespace: ns, labels }, spec: { maxUnavailable: 1, selector: { matchLabels: selector } } },
            { parent: this, dependsOn: [sts] },
        );

        new k8s.networking.v1.NetworkPolicy(
            `${name}-netpol`,
            {
                metadata: { name: RECEIVE_NAME, namespace: ns, labels },
                spec: {
                    podSelector: { matchLabels: selector },
                    policyTypes: ["Ingress", "Egress"],
                    ingress: [
                        // Remote write from the edges' ranges (through the LoadBalancer) and the central Prometheus;
                        // mTLS authenticates every writer on top.
                        {
                            from: [...args.remoteWriteSources.cidrs.map((cidr) => ({ ipBlock: { cidr } })), ...args.remoteWriteSources.peers],
                            ports: [{ protocol: "TCP", port: THANOS_PORTS.remoteWrite }],
                        },
                        // Replication between receivers.
                        { from: [{ podSelector: { matchLabels: selector } }], ports: [{ protocol: "TCP", port: THANOS_PORTS.grpc }] },
                        { from: args.storeApiClients, ports: [{ protocol: "TCP", port: THANOS_PORTS.grpc }] },
                        { from: args.metricsScrapers, ports: [{ protocol: "TCP", port: THANOS_PORTS.http }] },
                    ],
                    egress: [
                        { to: [{ podSelector: { matchLabels: selector } }], ports: [{ protocol: "TCP", port: THANOS_PORTS.grpc }] },
                        { to: [{ ipBlock: { cidr: args.objectStorageCidr } }], ports: [{ protocol: "TCP", port: args.objectStoragePort }] },
                        // Meta-monitoring queries to Thanos Query (head series limits).
                        { to: args.storeApiClients, ports: [{ protocol: "TCP", port: THANOS_PORTS.http }] },
                        ...tracingEgress(args.tracing),
                    ],
                },
            },
            { parent: this },
        );

        this.registerOutputs({ remoteWriteUrl: this.remoteWriteUrl, hashring: this.hashring });
    }
}
