/**
 * The typed stack configuration: one schema, parsed and validated once, before any resource is registered.
 *
 * Every default lives here. The README's "Config reference" documents the same keys; `test/config.test.ts`
 * holds a table of every rule below.
 */
import { z } from "zod";
import { OperatorError } from "./errors";
import { parseQuantity } from "./k8s";
import { DEFAULT_EXPECTED_SERIES, centralSizing, edgeAgentSizing, limitBelowRequest } from "./sizing";

export const PROJECT = "agent-receiver";

// ---------------------------------------------------------------------------------------------------------
// Scalar shapes
// ---------------------------------------------------------------------------------------------------------

/**
 * `pulumi config set --path` stores a value that reads as a number as a JSON number (`... quota.cpu 8` stores 8, not
 * "8"). A field whose value needs a unit refuses a bare number with a message that names the unit, instead of zod's
 * "expected string, received number"; a field where a bare number means something accepts it (see `cpu`).
 */
const needsUnit = (example: (n: number) => string) => (iss: { input?: unknown }) =>
    typeof iss.input === "number" ? example(iss.input) : undefined;

/** Prometheus/Thanos duration, e.g. `30s`, `6h`, `90d`, `1h30m`. A bare number has no unit: refused. */
const duration = z
    .string({ error: needsUnit((n) => `must be a duration with a unit, such as ${n}s, ${n}m or ${n}h (${n} has none)`) })
    .regex(/^(\d+(ms|s|m|h|d|w|y))+$/, "must be a duration such as 30s, 6h or 90d");

/**
 * Kubernetes CPU quantity. A bare number is a number of cores, as in Kubernetes (`8`, `0.5`): accepted and normalised
 * to the string the manifests carry (8 → "8"), so `quota.cpu: 8` and `quota.cpu: "8"` deploy the same thing.
 */
const cpu = z.preprocess(
    (v) => (typeof v === "number" ? String(v) : v),
    z.string().regex(/^\d+(\.\d+)?m?$/, "must be a CPU quantity such as 250m or 2"),
);
/**
 * Kubernetes memory quantity. A bare number would be bytes (`memory: 32` is 32 bytes, never what was meant), so a
 * JSON number is refused with the units to use.
 */
const memory = z
    .string({ error: needsUnit((n) => `must be a memory quantity with a unit, such as ${n}Mi or ${n}Gi (a bare ${n} would be bytes)`) })
    .regex(/^\d+(\.\d+)?(Ki|Mi|Gi|Ti|k|M|G|T)?$/, "must be a memory quantity such as 512Mi");

/** RFC 1123 label: names of namespaces, tenants, clusters. */
const dnsLabel = z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, "must be a lowercase RFC 1123 label (a-z, 0-9, -)");

/** RFC 1123 subdomain: node names, hostnames. */
const dnsName = z
    .string()
    .max(253)
    .regex(
        /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/,
        "must be a lowercase DNS name such as receive.example.internal",
    );

/** A dotted quad; the octets' range is checked apart (`octetsInRange`), the regex only counts digits. */
const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;
/** Whether every octet of a dotted quad is 0-255 (anything else is left to the format's own message). */
const octetsInRange = (ip: string) => !IPV4.test(ip) || ip.split(".").every((o) => Number(o) <= 255);
const octetError = (ip: string) => `must have IPv4 octets of 0-255 (${ip})`;

/** `host:port`, where host is a DNS name or an IPv4 address. */
const hostPort = z
    .string()
    .regex(
        /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*|\d{1,3}(\.\d{1,3}){3}):\d{1,5}$/,
        "must be host:port, e.g. 192.168.101.10:9000 (no scheme)",
    )
    .refine((v) => {
        const port = Number(v.split(":")[1]);
        return port >= 1 && port <= 65535;
    }, "port must be between 1 and 65535")
    .refine((v) => octetsInRange(hostOf(v)), { error: (iss) => octetError(hostOf(String(iss.input))) });

/** The host of a `host:port`. */
export function hostOf(hostPort: string): string {
    const i = hostPort.lastIndexOf(":");
    return i < 0 ? hostPort : hostPort.slice(0, i);
}

const ipv4 = z
    .string()
    .regex(IPV4, "must be an IPv4 address")
    .refine(octetsInRange, { error: (iss) => octetError(String(iss.input)) });
const cidr = z
    .string()
    .regex(/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/, "must be an IPv4 CIDR such as 192.168.101.0/24")
    .refine((v) => octetsInRange(v.split("/")[0]), { error: (iss) => octetError(String(iss.input)) })
    .refine((v) => !v.includes("/") || Number(v.split("/")[1]) <= 32, "must have a prefix of 0-32");

/** Whether an IPv4 address lies in an IPv4 CIDR (both already valid). */
export function ipInCidr(ip: string, block: string): boolean {
    const toInt = (a: string) => a.split(".").reduce((n, o) => n * 256 + Number(o), 0);
    const [base, bits] = block.split("/");
    const prefix = Number(bits);
    const size = 2 ** (32 - prefix);
    return Math.floor(toInt(ip) / size) === Math.floor(toInt(base) / size);
}

/**
 * A replica count, 1 to `max`. Each maximum is a sanity bound stated with its reason where the component is
 * configured: a value beyond it is a typo (30 for 3) or a design the program does not deploy.
 */
const replicas = (byDefault: number, max: number, why: string) =>
    z.number().int().min(1).max(max, `must be at most ${max}: ${why}`).default(byDefault);

const resources = (requests: { cpu: string; memory: string }, limits: { cpu?: string; memory: string }) =>
    z
        .strictObject({
            requests: z.strictObject({ cpu: cpu.default(requests.cpu), memory: memory.default(requests.memory) }).prefault({}),
            limits: z
                .strictObject({
                    // No CPU limit unless configured: CPU throttling hurts latency more than it protects neighbours.
                    cpu: limits.cpu === undefined ? cpu.optional() : cpu.default(limits.cpu),
                    memory: memory.default(limits.memory),
                })
                .prefault({}),
        })
        .prefault({});

export type Resources = z.infer<ReturnType<typeof resources>>;

/**
 * A `resources` block whose unset fields the program derives from the expected series (lib/sizing.ts): every field
 * is optional and has no default here. The README's config reference gives what is derived.
 */
const derivedResources = z
    .strictObject({
        requests: z.strictObject({ cpu: cpu.optional(), memory: memory.optional() }).prefault({}),
        limits: z.strictObject({ cpu: cpu.optional(), memory: memory.optional() }).prefault({}),
    })
    .prefault({});

/**
 * Active series as the writer sends them, each counted once. At most 5,000,000: one writer beyond that is a typo, or
 * a Prometheus that should be split (its memory alone would be tens of GiB).
 */
const expectedSeries = z
    .number({ error: "must be a number of active series, such as 54000" })
    .int("must be a whole number of active series")
    .min(1, "must be at least 1 active series")
    .max(5_000_000, "must be at most 5000000: one writer beyond that needs its scrape split over several agents");

// ---------------------------------------------------------------------------------------------------------
// Namespaces
// ---------------------------------------------------------------------------------------------------------

/** Namespace of the central Prometheus, Alertmanager and Grafana (kube-prometheus-stack). Fixed. */
export const CENTRAL_MONITORING_NAMESPACE = "monitoring";

/** Namespace of Fluent Bit on every cluster (Pod Security privileged: it reads the node's log files). Fixed. */
export const LOG_SHIPPER_NAMESPACE = "logging-node";

/** Namespace of node-exporter (Pod Security privileged), next to the namespace of its cluster's monitoring. */
export function nodeExporterNamespace(monitoringNamespace: string): string {
    return `${monitoringNamespace}-node`;
}

/**
 * Namespaces Kubernetes itself owns. The platform creates every namespace it is given and locks it down (Pod
 * Security level, default-deny NetworkPolicies, a tenant's quota): given one of these, it would lock down the
 * cluster's own components.
 */
export const KUBERNETES_NAMESPACES = ["default", "kube-system", "kube-public", "kube-node-lease"];

/**
 * A namespace the platform uses, who runs there, the key that names it (undefined: fixed by the program) and, for a
 * name derived from that key, how (`<edge.namespace>-node`).
 */
interface NamespaceUse {
    readonly namespace: string;
    readonly owner: string;
    readonly key?: (string | number)[];
    readonly derived?: string;
}

/**
 * Check that every namespace the configuration gives a component or a tenant is one the platform may own: not one
 * of Kubernetes' own, and not the namespace of another component or tenant (the NetworkPolicies, Pod Security level
 * and quotas of a namespace are per namespace, so two owners would share, or fight over, them). `uses` lists the
 * namespaces in order; each configured one is checked against Kubernetes' and against those before it.
 */
function checkNamespaces(uses: NamespaceUse[], issue: Issue): void {
    const source = (u: NamespaceUse) => u.derived ?? (u.key ? keyPath(u.key).slice(PROJECT.length + 1) : undefined);
    uses.forEach((u, i) => {
        if (u.key === undefined) return;
        const subject = `namespace "${u.namespace}"${u.derived ? ` (${u.derived})` : ""}`;
        if (KUBERNETES_NAMESPACES.includes(u.namespace)) {
            issue(u.key, `${subject} belongs to Kubernetes: the platform locks down every namespace it is given (Pod Security, default-deny NetworkPolicies); choose another for ${u.owner}`);
            return;
        }
        const earlier = uses.slice(0, i).find((e) => e.namespace === u.namespace);
        if (earlier) {
            const named = source(earlier) ? ` (${source(earlier)})` : "";
            issue(u.key, `${subject} is already the namespace of ${earlier.owner}${named}; choose another for ${u.owner}`);
        }
    });
}

// ---------------------------------------------------------------------------------------------------------
// Shared sections
// ---------------------------------------------------------------------------------------------------------

const kubernetesSection = z
    .strictObject({
        /** kubeconfig context of this cluster. Required: a wrong default would deploy to the wrong cluster. */
        context: z.string().min(1, "must name the kubeconfig context of this cluster"),
        /** StorageClass for every PVC (the seed's clusters use local-path). */
        storageClass: dnsName.default("local-path"),
        /**
         * When set, `pulumi up` writes every manifest (charts rendered) under this directory instead of applying
         * it (the Kubernetes provider's renderYamlToDirectory). Needs the Pulumi CLI, not a cluster.
         */
        renderYamlToDirectory: z.string().min(1).optional(),
    })
    .prefault({ context: "" });

const imagesSection = z
    .strictObject({
        /**
         * On-prem registry mirror that serves each upstream registry under a path named after it
         * (e.g. `harbor.example.internal/proxy` serves `harbor.example.internal/proxy/quay.io/thanos/thanos`).
         * Empty: pull from upstream.
         */
        registryMirror: z
            .string()
            .regex(/^[a-z0-9.-]+(:\d+)?(\/[a-z0-9._-]+)*$/, "must be a registry host with an optional path, no scheme")
            .optional(),
        /**
         * Credentials for the mirror. When set, the program creates a `kubernetes.io/dockerconfigjson` Secret in
         * every namespace it owns and every pod uses it. The password is the secret config key
         * `agent-receiver:registryPassword`.
         */
        pullSecret: z
            .strictObject({
                registry: z.string().min(1),
                username: z.string().min(1),
            })
            .optional(),
    })
    .prefault({});

// ---------------------------------------------------------------------------------------------------------
// Central (cluster-01)
// ---------------------------------------------------------------------------------------------------------

const writerSchema = z.strictObject({
    /** Cluster name of the writer (an edge cluster, or the central cluster's own Prometheus). */
    cluster: dnsLabel,
    /** Tenants of that cluster that write separately (cluster-02: a, b). Empty: the cluster is one writer. */
    tenants: z.array(dnsLabel).default([]),
});
export type Writer = z.infer<typeof writerSchema>;

const tenantLimits = z.strictObject({
    /** Largest remote-write request body in bytes (0 = no limit). Over it Receive answers 413: data is lost. */
    requestSizeBytes: z.number().int().nonnegative().optional(),
    /** Series per request (0 = no limit). */
    requestSeries: z.number().int().nonnegative().optional(),
    /** Samples per request (0 = no limit). */
    requestSamples: z.number().int().nonnegative().optional(),
    /**
     * Active series of the tenant as the writer sends them, each counted once (0 = no limit). Receive's limiter sums
     * the head series of every receiver, so with replicationFactor 3 it sees every series three times: the program
     * writes `uniqueHeadSeries × replicationFactor` into Thanos' limits file (`receiveHeadSeriesLimit`). Best effort:
     * the limiter reads the sum through Thanos Query (meta-monitoring). The central Prometheus pair (the central
     * cluster's writer) sends each of its series twice, once per replica (`prometheus_replica`): its limit must cover
     * both copies.
     */
    uniqueHeadSeries: z.number().int().nonnegative().optional(),
    /**
     * Refused (with how to convert): it was copied into Thanos' limits file as is, so it counted every replica's copy
     * and its meaning differs from `uniqueHeadSeries`. Kept in the shape only so that an old stack file is told why.
     */
    headSeries: z.unknown().optional(),
});

/**
 * The `head_series_limit` Thanos compares with the sum of every receiver's head series of the tenant: each series is
 * there once per replica (the replication factor), so the limit in unique series is multiplied by it.
 */
export function receiveHeadSeriesLimit(uniqueHeadSeries: number, replicationFactor: number): number {
    return uniqueHeadSeries * replicationFactor;
}
export type TenantLimits = z.infer<typeof tenantLimits>;

/** A name a secret config key may carry for an alert receiver's webhook URL: `alertWebhook<Name>`. */
export const WEBHOOK_SECRET_KEY = /^alertWebhook[A-Z][A-Za-z0-9]*$/;
const webhookSecretKey = z
    .string()
    .regex(WEBHOOK_SECRET_KEY, "must name a secret config key alertWebhook<Name>, e.g. alertWebhookPlatform");

const alertingSection = z
    .strictObject({
        /**
         * Prefix of every alert's `runbook_url`; the path after it is the runbook's path in this repository
         * (`docs/ko/runbooks/<alert>.md`). Empty: the annotation holds the repository-relative path.
         */
        runbookBaseUrl: z.string().default(""),
        /** Webhook receivers. The URL is a secret config key (`pulumi config set --secret agent-receiver:alertWebhookX`). */
        receivers: z
            .array(z.strictObject({ name: dnsLabel, webhookUrlSecret: webhookSecretKey }))
            .min(1, "must list at least one receiver: alerts with nowhere to go are lost"),
        /** Receiver of everything no route below matches. Default: the first receiver. */
        defaultReceiver: dnsLabel.optional(),
        /** Routes, first match wins; each matches any of its severities, clusters and writers (empty: any). */
        routes: z
            .array(
                z.strictObject({
                    receiver: dnsLabel,
                    severities: z.array(z.enum(["critical", "warning", "info"])).default([]),
                    clusters: z.array(dnsLabel).default([]),
                    /** Writer ids (`tenant_id`), e.g. `cluster-02-a`. */
                    tenants: z.array(dnsLabel).default([]),
                    /** Also try the routes after this one. */
                    continue: z.boolean().default(false),
                }),
            )
            .default([]),
        /**
         * Dead-man's switch: the always-firing Watchdog goes to this external heartbeat service, which pages when it
         * stops hearing it. Without it, a dead alerting path is silent.
         */
        heartbeat: z
            .strictObject({
                webhookUrlSecret: webhookSecretKey,
                /**
                 * A second heartbeat check, for the central Prometheus pair's SelfMonitoringWatchdog. Required, and another
                 * key than `webhookUrlSecret`: one check fed by both watchdogs keeps pinging while either path is dead.
                 * (Optional in the shape only, so that its absence is reported with the command that fixes it.)
                 */
                selfMonitoringWebhookUrlSecret: webhookSecretKey.optional(),
                repeatInterval: duration.default("1m"),
            })
            .optional(),
        /**
         * Where the webhook receivers and the heartbeat service are, as CIDRs (their URLs are secrets; their
         * addresses are not): Alertmanager may send HTTPS (443) there and nowhere else outside the cluster. A service
         * behind changing addresses needs Cilium's DNS proxy and `toFQDNs`, which this program does not use.
         */
        webhookCidrs: z.array(cidr).min(1, "must list where the webhook receivers are (CIDRs): Alertmanager reaches nothing else outside the cluster"),
    });

/** A metric name as an exporter exposes it (`edge.agent.keepMetrics`, `central.monitoring.prometheus.keepMetrics`). */
const exportedMetricNames = z
    .array(z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]*$/, "must be a metric name as an exporter exposes it (letters, digits, _; a name with a colon is a recording rule's, which no exporter serves)"))
    .default([]);

const monitoringSection = z.strictObject({
    prometheus: z
        .strictObject({
            /**
             * HA pair: both scrape everything; Query deduplicates on `prometheus_replica`. At most 3: every replica
             * scrapes every target and writes every series to Receive once more.
             */
            replicas: replicas(2, 3, "every replica scrapes every target and writes every series to Receive once more; the HA pair needs 2"),
            /** Local retention only: the global view (Receive and the bucket) holds the history. */
            retention: duration.default("1d"),
            storageSize: memory.default("20Gi"),
            resources: resources({ cpu: "500m", memory: "2Gi" }, { memory: "4Gi" }),
            /**
             * Metric names the pair's kubelet, cAdvisor, kube-state-metrics and node-exporter scrapes keep on top of
             * what the platform's rules and dashboards use (lib/usedMetrics.ts), as edge.agent.keepMetrics on the edges.
             */
            keepMetrics: exportedMetricNames,
        })
        .prefault({}),
    alertmanager: z
        .strictObject({
            /**
             * Clustered (gossip): notifications are deduplicated across replicas. At most 5: more members add gossip
             * traffic, not capacity.
             */
            replicas: replicas(2, 5, "the members gossip to deduplicate notifications; more add traffic, not capacity"),
            storageSize: memory.default("1Gi"),
        })
        .prefault({}),
    ruler: z
        .strictObject({
            /**
             * Both replicas evaluate; Alertmanager deduplicates their identical alerts. At most 3: every replica
             * evaluates every rule against Query, so each one adds the whole rule load again.
             */
            replicas: replicas(2, 3, "every replica evaluates every rule against Query; Alertmanager deduplicates their alerts"),
            evaluationInterval: duration.default("30s"),
            storageSize: memory.default("2Gi"),
            /** The size the existing volumes have (`checkVolumeSize`); the default is storageSize's. */
            storageSizeDeployed: memory.default("2Gi"),
            resources: resources({ cpu: "100m", memory: "256Mi" }, { memory: "512Mi" }),
        })
        .prefault({}),
    grafana: z.strictObject({
        /** Hostname of Grafana on the Gateway (HTTPS). */
        hostname: dnsName,
        /** GatewayClass that serves the Gateway (the seed's CNI, Cilium, provides `cilium`). */
        gatewayClassName: dnsName.default("cilium"),
        /**
         * cert-manager ClusterIssuer that issues the Gateway's certificate (gateway-shim). Without it, a TLS Secret
         * named `grafana-tls` must exist in the monitoring namespace.
         */
        clusterIssuer: dnsName.optional(),
        /** Optional fixed IP from the Cilium L2 pool for the Gateway's LoadBalancer. */
        loadBalancerIP: ipv4.optional(),
    }),
    alerting: alertingSection,
    /** Alert thresholds that are a policy choice rather than a fact. */
    thresholds: z
        .strictObject({
            /** Query SLO: 99th percentile of range queries at the Query Frontend, in seconds. */
            queryP99Seconds: z.number().positive().default(10),
            /**
             * Below this hit ratio the results cache is not doing its job (memory too small, TTL, keys). The service
             * level's objective (lib/slo.ts): 70 %.
             */
            cacheHitRatioMin: z.number().min(0).max(1).default(0.7),
            /** Remote write lag of an agent, in seconds, that means it is falling behind. */
            remoteWriteLagSeconds: z.number().int().positive().default(300),
            /** Share of a tenant's head-series limit at which to warn. */
            headSeriesLimitRatio: z.number().min(0).max(1).default(0.8),
            /** A writer with no sample for this long has stopped sending. */
            writerSilentFor: duration.default("10m"),
            /**
             * Free share of an OpenSearch node's data disk below which to warn. OpenSearch stops placing shards at
             * 85 % used, moves them away at 90 % and makes indices read-only at 95 %: 20 % free leaves time to act.
             */
            logDiskFreeRatioMin: z.number().min(0).max(1).default(0.2),
        })
        .prefault({}),
});

const logsSection = z.strictObject({
    /** Namespace of OpenSearch. */
    namespace: dnsLabel.default("logging"),
    /** DNS name Fluent Bit on the edges uses to reach OpenSearch (on its HTTP certificate). */
    hostname: dnsName,
    /**
     * Fixed IP from the Cilium L2 pool for OpenSearch's LoadBalancer Service: the address `hostname` resolves to.
     * Part of the stack contract: the edges' Fluent Bit may reach exactly this address on 9200.
     */
    loadBalancerIP: ipv4,
    /** Days an index of container logs is kept before the index lifecycle deletes it. */
    retentionDays: z.number().int().min(1).default(14),
    /**
     * OpenSearch nodes: one node group whose every node is cluster-manager-eligible and holds data (the chart's
     * default roles). At most 7: a larger cluster wants dedicated manager nodes, which this program does not deploy.
     */
    replicas: replicas(3, 7, "every node is cluster-manager-eligible and holds data; a larger cluster needs dedicated manager nodes, which this program does not deploy"),
    storageSize: memory.default("100Gi"),
    /**
     * JVM heap; the container limit is twice this (off-heap, page cache). Whole Mi or Gi: the program passes it to
     * the JVM as `-Xms`/`-Xmx` with the unit `m` or `g`, which take no other unit and no fraction.
     */
    heapSize: z
        .string({ error: needsUnit((n) => `must be a heap size with a unit, such as ${n}Mi or ${n}Gi (a bare ${n} would be bytes)`) })
        .regex(/^\d+(Mi|Gi)$/, "must be a whole number of Mi or Gi, such as 2Gi or 1536Mi: the JVM's -Xmx takes m or g")
        .default("2Gi"),
    /**
     * OpenSearch Dashboards, where operators search the logs: its host on a Gateway (same class and ClusterIssuer
     * as Grafana's) and an optional fixed IP from the Cilium L2 pool.
     */
    dashboards: z.strictObject({
        hostname: dnsName,
        loadBalancerIP: ipv4.optional(),
    }),
});

/** A credential's generation: bumping it replaces the credential (new key or password) on the next `pulumi up`. */
const generation = z.number().int().nonnegative();

/**
 * Credential rotation as configuration. Each number is a generation: raise it and run `pulumi up` on cluster-01,
 * then on the edges. A new generation is a new resource (new private key and certificate, or new password); the old
 * one is deleted.
 */
const rotationSection = z
    .strictObject({
        /** The remote-write CA, and with it the server and every client certificate. Writes fail until each edge is updated. */
        ca: generation.default(0),
        /** Per writer id (`cluster-03`, `cluster-02-a`): a new client key and certificate. */
        writers: z.record(z.string(), generation).default({}),
        /** Per cluster: a new OpenSearch password for its Fluent Bit (the old one stops working at once). */
        logs: z.record(z.string(), generation).default({}),
        /** Per component (`store`, `receive`, `compactor`): a new MinIO secret key; the component restarts with it. */
        objectStorage: z.strictObject({ store: generation.optional(), receive: generation.optional(), compactor: generation.optional() }).prefault({}),
        /** A new Grafana admin password (stack output `grafanaAdminPassword`). */
        grafanaAdmin: generation.default(0),
        /** A new OpenSearch admin password (stack output `openSearchAdminPassword`); the configure Job applies it. */
        openSearchAdmin: generation.default(0),
    })
    .prefault({});

// ---------------------------------------------------------------------------------------------------------
// Extension points (central): a Prometheus outside the platform's stacks as a writer, and tracing
// ---------------------------------------------------------------------------------------------------------

/**
 * An existing Prometheus the platform does not deploy (another team's, a VM's), writing to Receive as a writer of
 * its own. It gets a client certificate like every writer (Organization = its id, so its Receive tenant is its id)
 * and reaches Receive through the same LoadBalancer, which admits only the ranges listed here besides the edges'.
 */
const externalWriterSchema = z.strictObject({
    /** Its writer id: the Organization of its client certificate, so its `tenant_id` in Receive. */
    id: dnsLabel,
    /**
     * Where its remote write comes from, as this cluster sees it (the host's or its NAT's address range): Receive's
     * LoadBalancer (`loadBalancerSourceRanges`) and NetworkPolicy admit these ranges on the remote-write port only.
     */
    sourceRanges: z.array(cidr).min(1, "must list where this writer's traffic comes from: Receive's LoadBalancer admits no one else"),
});
export type ExternalWriter = z.infer<typeof externalWriterSchema>;

/**
 * One OTLP endpoint every Thanos component sends its traces to (`--tracing.config`, type OTLP). It must be outside
 * the cluster (an address in `cidr`): the egress rules name it by address, and Cilium matches an address rule only
 * outside the cluster (an in-cluster collector's pods are not the program's to select).
 */
const tracingSection = z.strictObject({
    /** The collector's OTLP receiver, host:port (gRPC usually 4317, HTTP 4318). */
    otlpEndpoint: hostPort,
    /** Where the collector is, as a CIDR: every Thanos component may reach it there, on the endpoint's port only. */
    cidr: cidr.refine((v) => Number(v.split("/")[1]) >= 8, {
        message: "must name the collector's network (a prefix of /8 or longer): the Thanos components may reach only it",
    }),
    /** OTLP over gRPC or over HTTP (Thanos' `client_type`). */
    protocol: z.enum(["grpc", "http"]).default("grpc"),
    /** Plaintext to the collector. Off: TLS, verified against the system CAs of the Thanos image. */
    insecure: z.boolean().default(false),
    /** The name to verify on the collector's certificate when it differs from the endpoint's host (TLS only). */
    serverName: dnsName.optional(),
    /**
     * Share of root requests traced (parent-based: a traced request is traced through every component it reaches). A
     * request with the header `X-Thanos-Force-Tracing` is traced whatever the ratio.
     */
    samplingRatio: z.number().min(0).max(1).default(0.1),
});
export type TracingConfig = z.infer<typeof tracingSection>;

const centralSection = z.strictObject({
    /** Namespace of the Thanos components. */
    namespace: dnsLabel.default("thanos"),
    /**
     * The authoritative list of writers. Each gets its own client certificate; Receive takes the tenant from
     * the certificate, so a writer cannot write as another.
     */
    writers: z.array(writerSchema).min(1, "must list at least one writer"),
    /**
     * Expected active series of each writer, as it sends them (each counted once; the central Prometheus pair sends
     * each of its series twice, once per replica, so writer cluster-01 counts both), like `receive.limits`:
     * `default` for every writer, `writers.<writer id>` for one. What Receive, Query, the Store Gateway and the
     * caches are sized from, and the head-series limits where `receive.limits` sets none (lib/sizing.ts).
     */
    expectedSeries: z
        .strictObject({
            default: expectedSeries.default(DEFAULT_EXPECTED_SERIES),
            writers: z.record(z.string(), expectedSeries).default({}),
        })
        .prefault({}),
    rotation: rotationSection,
    /**
     * Where the edges' traffic comes from, as this cluster sees it (their nodes' or NAT's egress ranges): the only
     * sources the remote-write and OpenSearch LoadBalancers admit (`loadBalancerSourceRanges`, and the
     * NetworkPolicies, which see the client address because the Services keep it: `externalTrafficPolicy: Local`).
     */
    edgeSourceRanges: z.array(cidr).min(1, "must list the edges' egress ranges: the LoadBalancers admit no one else"),
    objectStorage: z.strictObject({
        /** The existing MinIO's S3 endpoint, host:port. */
        endpoint: hostPort,
        /** CIDR that holds the MinIO servers (NetworkPolicy egress from Receive, Store, Compactor). */
        cidr: cidr.refine((v) => Number(v.split("/")[1]) >= 8, {
            message: "must name the MinIO servers' network (a prefix of /8 or longer): Receive, Store and Compactor may reach only it",
        }),
        /** Talk to MinIO over TLS. */
        tls: z.boolean().default(true),
        /** The MinIO admin user the provider logs in with; its password is the secret `minioPassword`. */
        adminUser: z.string().min(1).default("admin"),
        region: z.string().min(1).default("us-east-1"),
        bucket: z
            .string()
            .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, "must be a valid S3 bucket name")
            .default("thanos-metrics"),
        lifecycle: z
            .strictObject({
                /** Days a noncurrent object version (left by compactor deletes) is kept before MinIO expires it. */
                noncurrentVersionDays: z.number().int().positive().default(7),
                /**
                 * Backstop expiry of current objects, in days. Only the compactor deletes blocks; this rule exists to
                 * catch orphans and must be well beyond the longest retention (validated: at least 30 days more).
                 */
                backstopExpiryDays: z.number().int().positive().default(800),
            })
            .prefault({}),
        /**
         * The first, shared MinIO user (read, write and delete for every component). Each component now has its own
         * user; `keep` leaves the shared one in place until the operator retires it by the procedure in the README
         * ("Object storage users": unprotect, then `retired`), so no `pulumi up` deletes it by surprise.
         */
        sharedUser: z.enum(["keep", "retired"]).default("keep"),
    }),
    receive: z
        .strictObject({
            /**
             * Members of the one ketama hashring. At most 20: a rollout restarts them one at a time, each flushing
             * and uploading its head within `terminationGracePeriodSeconds` (15 minutes by default), so 20 replicas
             * already take hours to roll.
             */
            replicas: replicas(3, 20, "the hashring's members restart one at a time on a rollout, each flushing its head (up to terminationGracePeriodSeconds)"),
            /** Copies of every sample; must be odd (quorum floor(RF/2)+1) and at most replicas (ketama). */
            replicationFactor: z.number().int().min(1).default(3),
            /** Local TSDB retention; blocks are shipped to the bucket every 2h. */
            localRetention: duration.default("2d"),
            /**
             * Samples older than the head are accepted within this window (after an edge outage the backlog is
             * older than the head). Must be at least the edges' `sampleAgeLimit`.
             */
            outOfOrderWindow: duration.default("3h"),
            /**
             * Samples stamped further than this ahead of Receive's clock are refused (`--tsdb.too-far-in-future.time-window`;
             * Thanos' default 0s accepts any). One writer with a clock ahead would otherwise move the head forward, and
             * every later sample of every writer in that tenant's TSDB falls out of bounds (answered 4xx, which
             * Prometheus does not retry: lost). Refused, only the skewed writer's samples are lost, and
             * ReceiveRefusingWrites names it. `0s` turns the guard off.
             */
            tooFarInFutureWindow: duration.default("10m"),
            storageSize: memory.default("50Gi"),
            /**
             * The size the existing volumes have: differing from storageSize (a resize) is refused with the procedure
             * (`checkVolumeSize`). The default is storageSize's default, so a configuration that never changed the size
             * passes.
             */
            storageSizeDeployed: memory.default("50Gi"),
            /** Long grace period so the head is flushed and uploaded on shutdown (upstream uses 900 s). */
            terminationGracePeriodSeconds: z.number().int().min(60).default(900),
            /** Tenant for requests that carry no tenant; with mTLS on every writer it only labels stray data. */
            defaultTenant: dnsLabel.default("unknown"),
            /** Derived from the expected series (lib/sizing.ts, `receiveSizing`) where unset. */
            resources: derivedResources,
            limits: z
                .strictObject({
                    default: tenantLimits.prefault({}),
                    /** Per-writer overrides, keyed by writer id (`cluster-03`, `cluster-02-a`). */
                    tenants: z.record(z.string(), tenantLimits).default({}),
                })
                .prefault({}),
            /** DNS name edges use to reach the remote-write endpoint; on the server certificate. */
            hostname: dnsName,
            /**
             * Fixed IP from the Cilium L2 pool for the remote-write LoadBalancer Service: the address `hostname`
             * resolves to (also on the server certificate). Part of the stack contract: the edge agents may reach
             * exactly this address on 443.
             */
            loadBalancerIP: ipv4,
        }),
    query: z
        .strictObject({
            /** Stateless. At most 10: replicas add availability, not speed; each fans every query out to every store. */
            replicas: replicas(2, 10, "Query is stateless; replicas add availability, not speed"),
            /** Derived from the total expected series (lib/sizing.ts, `queryPathResources`) where unset. */
            resources: derivedResources,
        })
        .prefault({}),
    queryFrontend: z
        .strictObject({
            /** Stateless, sharing the results cache. At most 10, for the same reason as Query. */
            replicas: replicas(2, 10, "the frontend is stateless and shares its results cache; replicas add availability, not speed"),
            /** Long range queries are split by this interval so cached days are reused. */
            splitInterval: duration.default("24h"),
            resources: resources({ cpu: "250m", memory: "512Mi" }, { memory: "1Gi" }),
        })
        .prefault({}),
    memcached: z
        .strictObject({
            /** Shards of the results cache (the clients spread keys over them). At most 10: grow `memoryMiB` first. */
            replicas: replicas(2, 10, "the results cache is sharded over the replicas; grow memoryMiB before adding shards"),
            /**
             * Memory memcached may use for items, in MiB; the container limit adds headroom. Derived from the total
             * expected series (lib/sizing.ts, `cacheMemoryMiB`) when unset.
             */
            memoryMiB: z.number().int().min(64).optional(),
            /** Largest cached item in MiB (memcached -I); Thanos' client default is 1 MiB, range results are larger. */
            maxItemSizeMiB: z.number().int().min(1).max(128).default(5),
        })
        .prefault({}),
    storeGateway: z
        .strictObject({
            /**
             * No sharding is configured: every replica loads every block's index header. At most 5: replicas add
             * copies for availability, not capacity.
             */
            replicas: replicas(2, 5, "every replica serves every block (no sharding is configured); replicas add copies, not capacity"),
            storageSize: memory.default("20Gi"),
            /** The size the existing volumes have (`checkVolumeSize`); the default is storageSize's. */
            storageSizeDeployed: memory.default("20Gi"),
            /** Derived from the total expected series (lib/sizing.ts, `queryPathResources`) where unset. */
            resources: derivedResources,
            /**
             * Per Series request (one query's call to one Store Gateway), so that one query cannot take a pod down:
             * past either limit the call fails and the query gets an error instead of the pod an OOM kill. Series
             * hold their labels and chunk references in memory; samples are counted in the chunks fetched (about 1.3
             * bytes each, compressed). The defaults fit the 4Gi limit with room for a few concurrent calls; raise them
             * with the memory limit. 0 = no limit.
             */
            limits: z
                .strictObject({
                    requestSeries: z.number().int().nonnegative().default(500000),
                    requestSamples: z.number().int().nonnegative().default(100000000),
                })
                .prefault({}),
            /** Memcached for the index cache (postings, series) and the caching bucket (chunks, metadata), as kube-thanos. */
            cache: z
                .strictObject({
                    replicas: z.number().int().min(1).default(2),
                    /** MiB per replica; derived from the total expected series (lib/sizing.ts) when unset. */
                    memoryMiB: z.number().int().min(64).optional(),
                    /** Largest item (memcached -I); Thanos' memcached client skips larger items. kube-thanos: 1 MiB. */
                    maxItemSizeMiB: z.number().int().min(1).max(128).default(1),
                })
                .prefault({}),
        })
        .prefault({}),
    compactor: z
        .strictObject({
            /** Retention per resolution; each longer than the window in which the next one is built. */
            retention: z
                .strictObject({
                    raw: duration.default("30d"),
                    fiveMinutes: duration.default("90d"),
                    oneHour: duration.default("365d"),
                })
                .prefault({}),
            /**
             * Working space for the largest compaction and downsampling: about twice the largest tenant's 14 days of
             * blocks (docs/ko/compactor-disk.md has the formula and the PromQL that measures it).
             */
            storageSize: memory.default("50Gi"),
            /** The size the existing volume has (`checkVolumeSize`); the default is storageSize's. */
            storageSizeDeployed: memory.default("50Gi"),
            resources: resources({ cpu: "500m", memory: "2Gi" }, { memory: "4Gi" }),
        })
        .prefault({}),
    /** Central Prometheus HA pair, Thanos Ruler, Alertmanager, Grafana (kube-prometheus-stack). */
    monitoring: monitoringSection,
    /** OpenSearch for every cluster's container logs. */
    logs: logsSection,
    /** Writers outside the platform's stacks (an existing Prometheus): a credential and a tenant each. */
    externalWriters: z.array(externalWriterSchema).default([]),
    /** Traces of every Thanos component to one OTLP endpoint. Absent: no tracing flag at all. */
    tracing: tracingSection.optional(),
});

// ---------------------------------------------------------------------------------------------------------
// Edge (cluster-02/03/04)
// ---------------------------------------------------------------------------------------------------------

const tenantSchema = z
    .strictObject({
        /** Tenant name; the writer id is `<cluster>-<name>`. */
        name: dnsLabel,
        /** Names of the existing Nodes that belong to this tenant. */
        nodes: z.array(dnsName).min(1, "a tenant needs at least one node"),
        /** Namespaces the tenant owns (created by the program). */
        namespaces: z.array(dnsLabel).min(1, "a tenant needs at least one namespace"),
        /** Active series this tenant's agent is expected to carry; default `edge.agent.expectedSeries`. */
        expectedSeries: expectedSeries.optional(),
        quota: z
            .strictObject({
                cpu: cpu.default("16"),
                memory: memory.default("32Gi"),
                pods: z.number().int().positive().default(200),
            })
            .prefault({}),
        /**
         * The tenant team's group, as the API server's authentication reports it (an OIDC groups claim, a client
         * certificate's Organization): bound to the `tenant-workloads` Role in each of the tenant's namespaces. Default
         * `tenant-<name>`: a predictable name to create in the identity provider, and a binding to a group nobody is in
         * grants nothing, so the default fails closed. A `system:` group is refused (`system:authenticated` would hand the
         * tenant's namespaces to every user).
         */
        group: z
            .string()
            .min(1)
            .regex(/^\S+$/, "must be a group name without spaces")
            .refine((g) => !g.startsWith("system:"), "must not be a system: group (those hold every user or service account)")
            .optional(),
    })
    .transform((t) => ({ ...t, group: t.group ?? `tenant-${t.name}` }));
export type Tenant = z.infer<typeof tenantSchema>;

const remoteWriteSchema = z
    .strictObject({
        /** Samples buffered per shard; upstream advice: 3-10x maxSamplesPerSend. */
        capacity: z.number().int().positive().default(10000),
        /**
         * Remote-write shards, fixed (`min_shards` = `max_shards`): without resharding, the flush deadline only bounds
         * a stop. Derived from the expected series when unset (lib/sizing.ts, `agentShards`). At most 50: each shard
         * buffers `capacity` samples in the agent's memory.
         */
        shards: z.number().int().min(1).max(50, "must be at most 50: each shard buffers capacity samples in the agent's memory").optional(),
        /**
         * Refused (with what replaces them): a resharding stops the old shards and drops what they still hold once the
         * flush deadline passes, so the agent runs fixed shards (`shards`). Kept in the shape only so that an old
         * stack file is told why.
         */
        minShards: z.unknown().optional(),
        maxShards: z.unknown().optional(),
        maxSamplesPerSend: z.number().int().positive().default(2000),
        batchSendDeadline: duration.default("5s"),
        minBackoff: duration.default("30ms"),
        maxBackoff: duration.default("5s"),
        /** Retry 429 (Receive over its limits) instead of dropping the batch. */
        retryOnHttp429: z.boolean().default(true),
        /**
         * `--storage.remote.flush-deadline`: how long a stop waits for the queue to send what it holds before it drops
         * it (with fixed shards nothing else waits on it). A stop waits it once (no metadata is sent; twice if it were,
         * for a metadata send in flight), and the pod's termination grace is twice this plus a margin (lib/sizing.ts,
         * `agentTerminationGraceSeconds`): the agent always exits by itself. At most 10m: the agent scrapes nothing
         * while it waits.
         */
        flushDeadline: duration
            .default("1m")
            .refine((d) => durationSeconds(d) >= 1 && durationSeconds(d) <= 600, "must be between 1s and 10m: a stopping agent scrapes nothing while it waits"),
        /**
         * Samples older than this are dropped instead of retried. Must exceed `survivableOutage`, or the agent drops
         * exactly the backlog an outage leaves.
         */
        sampleAgeLimit: duration.default("3h"),
    })
    .prefault({});
export type RemoteWriteTuning = z.infer<typeof remoteWriteSchema>;

const edgeSection = z.strictObject({
    /** Stack that exports the Receive endpoint, CA and writer credentials. */
    centralStack: z
        .string()
        .regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, "must be <organization>/<project>/<stack>")
        .default(`organization/${PROJECT}/cluster-01`),
    /** Namespace of the agent(s), node-exporter and kube-state-metrics. */
    namespace: dnsLabel.default("monitoring"),
    /** The longest central outage the edge promises to survive without losing samples. */
    survivableOutage: duration.default("2h"),
    agent: z
        .strictObject({
            scrapeInterval: duration.default("30s"),
            /**
             * Active series the agent is expected to carry (per tenant's agent: `tenants[].expectedSeries`, default
             * this). Its memory request and limit and its remote-write shards are derived from it (lib/sizing.ts).
             */
            expectedSeries: expectedSeries.default(DEFAULT_EXPECTED_SERIES),
            /** WAL volume size; holds the backlog during an outage. */
            walSize: memory.default("10Gi"),
            /** The size the existing WAL volumes have (`checkVolumeSize`); the default is walSize's. */
            walSizeDeployed: memory.default("10Gi"),
            /** How long the agent keeps unsent WAL data; at least sampleAgeLimit. */
            walRetention: duration.default("4h"),
            /** Derived from the expected series (lib/sizing.ts, `agentResources`) where unset. */
            resources: derivedResources,
            remoteWrite: remoteWriteSchema,
            /**
             * Metric names dropped at scrape time by every job (the tenants' `pods` job too), after the keep-lists:
             * a name here is dropped even when a rule or dashboard uses it.
             */
            extraDropMetrics: z.array(z.string().regex(/^[a-zA-Z_:][a-zA-Z0-9_:]*$/, "must be a metric name")).default([]),
            /**
             * Metric names the infrastructure jobs (node-exporter, kubelet, cAdvisor, kube-state-metrics, the agent's
             * own, Fluent Bit) keep on top of what the platform's rules and dashboards use (lib/usedMetrics.ts): for an
             * operator's own dashboard or query. A name kept by a job whose exporter does not expose it costs nothing.
             */
            keepMetrics: exportedMetricNames,
        })
        .prefault({}),
    /** cluster-02: tenants that split the nodes. Empty: the whole cluster is one writer. */
    tenants: z.array(tenantSchema).default([]),
    /** Effect of the tenant taint on tenant nodes. */
    tenantTaintEffect: z.enum(["NoSchedule", "PreferNoSchedule", "NoExecute"]).default("NoSchedule"),
    /**
     * Migration window from the node label `tenant` (which a kubelet can set on its own Node) to
     * `node-restriction.kubernetes.io/tenant`: also keep `tenant=<name>` on the tenant nodes, so that tenant workloads
     * that still select it keep scheduling. Default `false`; turn it off once no tenant pod selects `tenant` (README,
     * "Tenancy on cluster-02"): the next `pulumi up` removes the old label from the nodes.
     */
    legacyTenantNodeLabel: z.boolean().default(false),
});

// ---------------------------------------------------------------------------------------------------------
// The whole stack
// ---------------------------------------------------------------------------------------------------------

/** The whole stack configuration (`agent-receiver:*`); the docs check names key paths against it (test/docs.test.ts). */
export const stackSchema = z
    .strictObject({
        role: z.enum(["central", "edge"], { error: "must be central or edge" }),
        /** Cluster name: the `cluster` external label on every series from this cluster. */
        clusterName: dnsLabel,
        kubernetes: kubernetesSection,
        images: imagesSection,
        central: centralSection.optional(),
        edge: edgeSection.optional(),
    })
    .superRefine((cfg, ctx) => {
        const issue = (path: (string | number)[], message: string) => ctx.addIssue({ code: "custom", path, message });
        if (cfg.role === "central" && !cfg.central) issue(["central"], "is required when role is central");
        if (cfg.role === "edge" && !cfg.edge) issue(["edge"], "is required when role is edge");
        if (cfg.role === "central" && cfg.edge) issue(["edge"], "must not be set when role is central");
        if (cfg.role === "edge" && cfg.central) issue(["central"], "must not be set when role is edge");
        if (cfg.central) checkCentral(cfg.central, cfg.clusterName, issue);
        if (cfg.edge) checkEdge(cfg.edge, issue);
    });

type Issue = (path: (string | number)[], message: string) => void;

/**
 * The sizing of a configuration whose every value passed the schema; undefined when one did not (a bad quantity, zero
 * replicas): that value's own problem is reported under its key, and sizing from it would only add noise.
 */
function sizingOrSkip<T>(derive: () => T): T | undefined {
    try {
        return derive();
    } catch {
        return undefined;
    }
}

function checkCentral(c: z.infer<typeof centralSection>, clusterName: string, issue: Issue): void {
    const rf = c.receive.replicationFactor;
    if (rf > c.receive.replicas) {
        issue(["central", "receive", "replicationFactor"], `(${rf}) must not exceed receive.replicas (${c.receive.replicas})`);
    }
    if (rf % 2 === 0) {
        issue(["central", "receive", "replicationFactor"], `(${rf}) must be odd: the write quorum is floor(RF/2)+1`);
    }

    // Limits, rotations and alert routes name any writer, the external ones too.
    const ids = allWriterIds(c);
    checkExtensions(c, issue);
    const seen = new Set<string>();
    c.writers.forEach((w, i) => {
        for (const id of writerIds(w)) {
            if (seen.has(id)) issue(["central", "writers", i], `writer id "${id}" is listed twice`);
            seen.add(id);
        }
    });
    if (!c.writers.flatMap(writerIds).includes(clusterName)) {
        issue(["central", "writers"], `must include the central cluster itself ("${clusterName}"): its Prometheus writes to Receive too`);
    }
    for (const w of Object.keys(c.rotation.writers)) {
        if (!ids.includes(w)) issue(["central", "rotation", "writers", w], `unknown writer "${w}" (known: ${ids.join(", ")})`);
    }
    const clusters = [...new Set(c.writers.map((w) => w.cluster))];
    for (const cl of Object.keys(c.rotation.logs)) {
        if (!clusters.includes(cl)) issue(["central", "rotation", "logs", cl], `unknown cluster "${cl}" (known: ${clusters.join(", ")})`);
    }
    const limitSets: [string[], TenantLimits][] = [
        [["default"], c.receive.limits.default],
        ...Object.entries(c.receive.limits.tenants).map(([t, l]): [string[], TenantLimits] => [["tenants", t], l]),
    ];
    for (const [at, l] of limitSets) {
        if (l.headSeries === undefined) continue;
        const old = typeof l.headSeries === "number" ? l.headSeries : NaN;
        const keep = Number.isFinite(old) ? ` (${old} / ${rf} = ${Math.floor(old / rf)} keeps the limit it enforced)` : "";
        issue(
            ["central", "receive", "limits", ...at, "headSeries"],
            `is no longer read: Receive's limiter sums the head series of every receiver, so this limit counted each series ${rf} times (replicationFactor ${rf}). ` +
                `Set uniqueHeadSeries instead, in series as the writer sends them: uniqueHeadSeries = headSeries / replicationFactor${keep}; the program multiplies it back`,
        );
    }
    for (const tenant of Object.keys(c.receive.limits.tenants)) {
        if (!ids.includes(tenant)) {
            issue(["central", "receive", "limits", "tenants", tenant], `unknown writer "${tenant}" (known: ${ids.join(", ")})`);
        }
    }
    for (const w of Object.keys(c.expectedSeries.writers)) {
        if (!ids.includes(w)) issue(["central", "expectedSeries", "writers", w], `unknown writer "${w}" (known: ${ids.join(", ")})`);
    }
    // An explicit memory limit below the request in effect (explicit, or derived from the expected series).
    const sizing = sizingOrSkip(() => centralSizing(c, ids));
    const sized: [string[], Resources, number][] = !sizing ? [] : [
        [["central", "receive"], sizing.receive.resources, sizing.totalExpectedSeries],
        [["central", "query"], sizing.query, sizing.totalExpectedSeries],
        [["central", "storeGateway"], sizing.storeGateway, sizing.totalExpectedSeries],
    ];
    for (const [at, r, series] of sized) {
        if (limitBelowRequest(r)) {
            issue([...at, "resources", "limits", "memory"], `(${r.limits.memory}) is below the memory request (${r.requests.memory}, set or derived from ${series} expected series): raise it, or remove it to have it derived`);
        }
    }

    // Receive, Store and Compactor reach MinIO through a NetworkPolicy egress rule to `cidr` only: an address outside
    // it is unreachable. A DNS name cannot be checked here (it resolves on the cluster).
    const minioHost = hostOf(c.objectStorage.endpoint);
    if (IPV4.test(minioHost) && !ipInCidr(minioHost, c.objectStorage.cidr)) {
        issue(
            ["central", "objectStorage", "endpoint"],
            `(${minioHost}) is outside central.objectStorage.cidr (${c.objectStorage.cidr}): Receive, Store and Compactor may reach MinIO only within that CIDR`,
        );
    }

    checkNamespaces(
        [
            { namespace: LOG_SHIPPER_NAMESPACE, owner: "Fluent Bit" },
            { namespace: CENTRAL_MONITORING_NAMESPACE, owner: "the central Prometheus, Alertmanager and Grafana" },
            { namespace: nodeExporterNamespace(CENTRAL_MONITORING_NAMESPACE), owner: "node-exporter" },
            { namespace: c.namespace, owner: "the Thanos components", key: ["central", "namespace"] },
            { namespace: c.logs.namespace, owner: "OpenSearch", key: ["central", "logs", "namespace"] },
        ],
        issue,
    );

    // StatefulSets whose claim size a key sets (names as the components create them; test/volumeSizes.test.ts
    // checks them against the plan): a changed size is refused until the volumes were resized by hand.
    const volumes: [string[], { storageSize: string; storageSizeDeployed: string }, string, number][] = [
        [["central", "receive"], c.receive, "thanos-receive", c.receive.replicas],
        [["central", "storeGateway"], c.storeGateway, "thanos-store", c.storeGateway.replicas],
        [["central", "compactor"], c.compactor, "thanos-compact", 1],
        [["central", "monitoring", "ruler"], c.monitoring.ruler, "thanos-ruler", c.monitoring.ruler.replicas],
    ];
    for (const [at, v, statefulSet, replicas] of volumes) {
        const problem = checkVolumeSize(v.storageSize, v.storageSizeDeployed, { namespace: c.namespace, statefulSet, replicas });
        if (problem) issue([...at, "storageSize"], problem);
    }

    const r = c.compactor.retention;
    const raw = durationSeconds(r.raw);
    const five = durationSeconds(r.fiveMinutes);
    const hour = durationSeconds(r.oneHour);
    // The compactor builds 5m blocks from raw blocks older than 40h, and 1h blocks from 5m blocks older than 10d:
    // a shorter retention deletes the source before its downsampled copy exists.
    if (raw <= 40 * 3600) issue(["central", "compactor", "retention", "raw"], `(${r.raw}) must be longer than 40h, when 5m downsampling starts`);
    if (five <= 10 * 86400) issue(["central", "compactor", "retention", "fiveMinutes"], `(${r.fiveMinutes}) must be longer than 10d, when 1h downsampling starts`);
    if (five < raw) issue(["central", "compactor", "retention", "fiveMinutes"], `(${r.fiveMinutes}) must not be shorter than raw (${r.raw})`);
    if (hour < five) issue(["central", "compactor", "retention", "oneHour"], `(${r.oneHour}) must not be shorter than fiveMinutes (${r.fiveMinutes})`);
    const longestDays = Math.max(raw, five, hour) / 86400;
    const backstop = c.objectStorage.lifecycle.backstopExpiryDays;
    if (backstop < longestDays + 30) {
        issue(
            ["central", "objectStorage", "lifecycle", "backstopExpiryDays"],
            `(${backstop}) must be at least 30 days beyond the longest retention (${Math.ceil(longestDays)}d): only the compactor may delete live blocks`,
        );
    }
    const a = c.monitoring.alerting;
    const receivers = new Set(a.receivers.map((r) => r.name));
    if (receivers.size !== a.receivers.length) issue(["central", "monitoring", "alerting", "receivers"], "receiver names must be unique");
    if (a.defaultReceiver !== undefined && !receivers.has(a.defaultReceiver)) {
        issue(["central", "monitoring", "alerting", "defaultReceiver"], `unknown receiver "${a.defaultReceiver}" (known: ${[...receivers].join(", ")})`);
    }
    if (a.heartbeat) {
        const key = ["central", "monitoring", "alerting", "heartbeat", "selfMonitoringWebhookUrlSecret"];
        const own = a.heartbeat.selfMonitoringWebhookUrlSecret;
        if (own === undefined) {
            issue(key, "is required with a heartbeat: name a second heartbeat check's secret key (e.g. alertWebhookHeartbeatSelfMonitoring) for the central Prometheus pair's SelfMonitoringWatchdog, then set it with pulumi config set --secret");
        } else if (own === a.heartbeat.webhookUrlSecret) {
            issue(key, `(${own}) must differ from heartbeat.webhookUrlSecret: one check fed by both watchdogs keeps pinging while either path is dead`);
        }
    }
    a.routes.forEach((r, i) => {
        if (!receivers.has(r.receiver)) issue(["central", "monitoring", "alerting", "routes", i, "receiver"], `unknown receiver "${r.receiver}" (known: ${[...receivers].join(", ")})`);
        for (const cl of r.clusters) if (!clusters.includes(cl)) issue(["central", "monitoring", "alerting", "routes", i, "clusters"], `unknown cluster "${cl}" (known: ${clusters.join(", ")})`);
        for (const t of r.tenants) if (!ids.includes(t)) issue(["central", "monitoring", "alerting", "routes", i, "tenants"], `unknown writer "${t}" (known: ${ids.join(", ")})`);
    });
    if (durationSeconds(c.receive.localRetention) < 2 * 3600) {
        issue(["central", "receive", "localRetention"], `(${c.receive.localRetention}) must be at least 2h, one block`);
    }
    // Each name is a Gateway listener or LoadBalancer of its own and needs its own DNS record.
    const names: [string, string][] = [
        ["central.receive.hostname", c.receive.hostname],
        ["central.monitoring.grafana.hostname", c.monitoring.grafana.hostname],
        ["central.logs.hostname", c.logs.hostname],
    ];
    for (const [key, host] of names) {
        if (host === c.logs.dashboards.hostname) issue(["central", "logs", "dashboards", "hostname"], `(${host}) must differ from ${key}`);
    }
}

/**
 * The extension points' own rules: an external writer's id is a tenant of its own (not another writer's, not a
 * cluster's, not the tenant of requests without one), and the tracing collector is where its CIDR says.
 */
function checkExtensions(c: z.infer<typeof centralSection>, issue: Issue): void {
    const clusterWriters = c.writers.flatMap(writerIds);
    const clusters = c.writers.map((w) => w.cluster);
    const seen = new Set<string>();
    c.externalWriters.forEach((x, i) => {
        const at = ["central", "externalWriters", i, "id"];
        if (clusterWriters.includes(x.id)) issue(at, `"${x.id}" is already the writer id of a cluster in central.writers: an external writer needs a tenant of its own`);
        else if (clusters.includes(x.id)) issue(at, `"${x.id}" is the name of cluster ${x.id} in central.writers: choose an id no cluster's writer or log user carries`);
        if (x.id === c.receive.defaultTenant) issue(at, `"${x.id}" is central.receive.defaultTenant, the tenant of requests without one: its series would mix with stray data`);
        if (seen.has(x.id)) issue(at, `writer id "${x.id}" is listed twice`);
        seen.add(x.id);
    });
    const t = c.tracing;
    if (t) {
        const host = hostOf(t.otlpEndpoint);
        if (IPV4.test(host) && !ipInCidr(host, t.cidr)) {
            issue(["central", "tracing", "otlpEndpoint"], `(${host}) is outside central.tracing.cidr (${t.cidr}): the Thanos components may reach the collector only within that CIDR`);
        }
        if (t.insecure && t.serverName !== undefined) {
            issue(["central", "tracing", "serverName"], "has no effect with insecure: true (plaintext, no certificate to verify): remove it, or turn insecure off");
        }
    }
}

/** The ids of the writers outside the platform's stacks. */
export function externalWriterIds(c: Pick<z.infer<typeof centralSection>, "externalWriters">): string[] {
    return c.externalWriters.map((x) => x.id);
}

/** Every writer id of a central configuration: the clusters' (and their tenants'), then the external writers'. */
export function allWriterIds(c: Pick<z.infer<typeof centralSection>, "writers" | "externalWriters">): string[] {
    return [...c.writers.flatMap(writerIds), ...externalWriterIds(c)];
}

function checkEdge(e: z.infer<typeof edgeSection>, issue: Issue): void {
    const rw = e.agent.remoteWrite;
    for (const key of ["minShards", "maxShards"] as const) {
        if (rw[key] === undefined) continue;
        issue(
            ["edge", "agent", "remoteWrite", key],
            `is no longer read: the agent runs a fixed number of shards, because a resharding drops what the old shards still hold once the flush deadline passes. ` +
                `Remove it, and set edge.agent.remoteWrite.shards only to override the count derived from the expected series`,
        );
    }
    if (rw.capacity < rw.maxSamplesPerSend) {
        issue(["edge", "agent", "remoteWrite", "capacity"], `(${rw.capacity}) must be at least maxSamplesPerSend (${rw.maxSamplesPerSend})`);
    }
    if (durationSeconds(rw.minBackoff) > durationSeconds(rw.maxBackoff)) {
        issue(["edge", "agent", "remoteWrite", "minBackoff"], `(${rw.minBackoff}) must not exceed maxBackoff (${rw.maxBackoff})`);
    }
    if (durationSeconds(rw.sampleAgeLimit) <= durationSeconds(e.survivableOutage)) {
        issue(
            ["edge", "agent", "remoteWrite", "sampleAgeLimit"],
            `(${rw.sampleAgeLimit}) must be longer than survivableOutage (${e.survivableOutage}), or the backlog of an outage is dropped`,
        );
    }
    if (durationSeconds(e.agent.walRetention) < durationSeconds(rw.sampleAgeLimit)) {
        issue(["edge", "agent", "walRetention"], `(${e.agent.walRetention}) must be at least sampleAgeLimit (${rw.sampleAgeLimit})`);
    }

    e.agent.keepMetrics.forEach((n, i) => {
        if (e.agent.extraDropMetrics.includes(n)) {
            issue(["edge", "agent", "keepMetrics", i], `"${n}" is also in edge.agent.extraDropMetrics, which wins: remove it from one of the two`);
        }
    });
    // Each agent's memory, derived from its expected series unless set: an explicit limit below the request is refused.
    for (const agent of sizingOrSkip(() => edgeAgentSizing(e)) ?? []) {
        const r = agent.resources;
        if (limitBelowRequest(r)) {
            issue(["edge", "agent", "resources", "limits", "memory"], `(${r.limits.memory}) is below the memory request of ${agent.statefulSet} (${r.requests.memory}, set or derived from ${agent.expectedSeries} expected series): raise it, or remove it to have it derived`);
        }
        // The WAL volume's size is in the agent StatefulSet's claim template, like the central volumes.
        const problem = checkVolumeSize(e.agent.walSize, e.agent.walSizeDeployed, { namespace: e.namespace, statefulSet: agent.statefulSet, replicas: 1, claimTemplate: "wal" });
        if (problem) issue(["edge", "agent", "walSize"], problem);
    }

    if (e.legacyTenantNodeLabel && e.tenants.length === 0) {
        issue(["edge", "legacyTenantNodeLabel"], "only applies to a cluster with edge.tenants: remove it");
    }

    const nodeOwner = new Map<string, string>();
    const groupOwner = new Map<string, string>();
    const names = new Set<string>();
    e.tenants.forEach((t, i) => {
        if (names.has(t.name)) issue(["edge", "tenants", i, "name"], `tenant "${t.name}" is listed twice`);
        names.add(t.name);
        const groupOf = groupOwner.get(t.group);
        if (groupOf !== undefined) issue(["edge", "tenants", i, "group"], `group "${t.group}" is already tenant "${groupOf}"'s: one team would get both tenants' namespaces`);
        else groupOwner.set(t.group, t.name);
        t.nodes.forEach((n, j) => {
            const owner = nodeOwner.get(n);
            if (owner !== undefined) issue(["edge", "tenants", i, "nodes", j], `node "${n}" already belongs to tenant "${owner}"`);
            else nodeOwner.set(n, t.name);
        });
    });
    checkNamespaces(
        [
            { namespace: LOG_SHIPPER_NAMESPACE, owner: "Fluent Bit" },
            { namespace: e.namespace, owner: "the agents and kube-state-metrics", key: ["edge", "namespace"] },
            { namespace: nodeExporterNamespace(e.namespace), owner: "node-exporter", key: ["edge", "namespace"], derived: "<edge.namespace>-node" },
            ...e.tenants.flatMap((t, i) => t.namespaces.map((ns, j) => ({ namespace: ns, owner: `tenant "${t.name}"`, key: ["edge", "tenants", i, "namespaces", j] }))),
        ],
        issue,
    );
}

/**
 * A StatefulSet's volume size lives in its claim template, which Kubernetes does not let change: the Kubernetes
 * provider would delete and re-create the StatefulSet (every pod at once; for Receive, the whole write path) and the
 * existing volumes would keep their size anyway. So a size that differs from the one deployed is refused, with the
 * procedure that resizes without that. How the program knows the deployed size: a config key recording it
 * (`storageSizeDeployed`), chosen over the alternatives because it is explicit and reviewed in the stack file like
 * the size itself, works in an offline plan and a first preview alike, and doubles as the acknowledgement that the
 * hand steps were done. The stack's previous outputs are not readable from inside the program, and a StackReference
 * to the stack itself would still need an acknowledgement after the hand steps, and passes silently where no output
 * was recorded yet. Returns the problem, or undefined when the sizes agree.
 */
export function checkVolumeSize(size: string, deployed: string, sts: { namespace: string; statefulSet: string; replicas: number; claimTemplate?: string }): string | undefined {
    if (parseQuantity(size) === parseQuantity(deployed)) return undefined;
    const claims = Array.from({ length: sts.replicas }, (_, i) => `${sts.claimTemplate ?? "data"}-${sts.statefulSet}-${i}`);
    const patch = `'{"spec":{"resources":{"requests":{"storage":"${size}"}}}}'`;
    return (
        `(${size}) differs from ${sts.claimTemplate === "wal" ? "walSizeDeployed" : "storageSizeDeployed"} (${deployed}): the size is in the volume claim template of StatefulSet ${sts.namespace}/${sts.statefulSet}, ` +
        `which Kubernetes does not let change, so pulumi up would delete and re-create the StatefulSet (all its pods at once) and its volumes would stay at ${deployed}. ` +
        `To resize: (1) grow each claim, ${claims.map((c) => `kubectl -n ${sts.namespace} patch pvc ${c} -p ${patch}`).join("; ")} ` +
        `(its StorageClass must allow expansion; local-path does not: see docs/ko/runbooks/volume-full.md); ` +
        `(2) kubectl -n ${sts.namespace} delete statefulset ${sts.statefulSet} --cascade=orphan (the pods keep running); ` +
        `(3) set ${sts.claimTemplate === "wal" ? "walSizeDeployed" : "storageSizeDeployed"} to ${size} and run pulumi up, which re-creates the StatefulSet around the running pods. ` +
        `Before the first deployment, set both to the same size.`
    );
}

/** Seconds in a Prometheus duration (`1h30m` → 5400). */
export function durationSeconds(d: string): number {
    const unit: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400, w: 604800, y: 31536000 };
    let total = 0;
    for (const m of d.matchAll(/(\d+)(ms|s|m|h|d|w|y)/g)) total += Number(m[1]) * unit[m[2]];
    return total;
}

/**
 * The writer-id rule, in one place: a cluster writes as itself, a tenant of a shared cluster as
 * `<cluster>-<tenant>`. The id names the writer's client certificate, its Receive tenant and its log user.
 */
export function writerId(cluster: string, tenant?: string): string {
    return tenant === undefined ? cluster : `${cluster}-${tenant}`;
}

/** The writer ids of one writer entry: `cluster-03`, or `cluster-02-a`, `cluster-02-b`. */
export function writerIds(w: Writer): string[] {
    return w.tenants.length === 0 ? [writerId(w.cluster)] : w.tenants.map((t) => writerId(w.cluster, t));
}

export type StackConfig = z.infer<typeof stackSchema>;
export type CentralConfig = NonNullable<StackConfig["central"]>;
export type EdgeConfig = NonNullable<StackConfig["edge"]>;

/**
 * Thrown for bad configuration; the message names the stack and every bad key. An `OperatorError` (a
 * `pulumi.RunError`), so `pulumi up` prints the message alone. The stack is `stackName`: a field named `stack`
 * would replace the JavaScript stack trace, and an inspected error would print as an object.
 */
export class ConfigError extends OperatorError {
    constructor(
        readonly stackName: string,
        readonly problems: { path: string; message: string }[],
    ) {
        super(
            `invalid configuration for stack "${stackName}":\n` +
                problems.map((p) => `  - ${p.path}: ${p.message}`).join("\n"),
        );
        this.name = "ConfigError";
    }
}

/** The config key path as the operator types it: `agent-receiver:central.receive.replicas`. */
function keyPath(path: PropertyKey[]): string {
    if (path.length === 0) return `${PROJECT}:<root>`;
    const [head, ...rest] = path;
    return `${PROJECT}:${String(head)}` + rest.map((p) => (typeof p === "number" ? `[${p}]` : `.${String(p)}`)).join("");
}

/** Stacks that may render manifests instead of applying them: their names end with this. */
export const RENDER_STACK_SUFFIX = "-render";

type Problem = { path: string; message: string };

/** Validate a stack's raw configuration: the typed config, or every problem found. */
function checkStackConfig(stack: string, raw: unknown): { config?: StackConfig; problems: Problem[] } {
    const result = stackSchema.safeParse(raw);
    if (result.success) {
        // The Kubernetes provider replaces itself when renderYamlToDirectory changes, and replacing the provider of a
        // deployed stack deletes every object it manages from the cluster: render from a stack of its own only.
        if (result.data.kubernetes.renderYamlToDirectory !== undefined && !stack.endsWith(RENDER_STACK_SUFFIX)) {
            return {
                problems: [
                    {
                        path: `${PROJECT}:kubernetes.renderYamlToDirectory`,
                        message:
                            `is set on a stack that is not render-only. Changing it replaces the Kubernetes provider, and on a deployed stack ` +
                            `pulumi up would delete every object from the cluster. Remove it (pulumi config rm --path ${PROJECT}:kubernetes.renderYamlToDirectory --stack ${stack}) ` +
                            `and render from a stack of its own named ${stack}${RENDER_STACK_SUFFIX} with the same configuration (README, "Rendering manifests")`,
                    },
                ],
            };
        }
        return { config: result.data, problems: [] };
    }
    const problems = result.error.issues.flatMap((i) => {
        if (i.code === "unrecognized_keys") {
            return i.keys.map((k) => ({ path: keyPath([...i.path, k]), message: "unknown key" }));
        }
        return [{ path: keyPath(i.path), message: i.message }];
    });
    return { problems };
}

/** Parse and validate a stack's raw configuration (the `agent-receiver:*` keys, objects already parsed). */
export function parseStackConfig(stack: string, raw: unknown): StackConfig {
    const { config, problems } = checkStackConfig(stack, raw);
    if (!config) throw new ConfigError(stack, problems);
    return config;
}

// ---------------------------------------------------------------------------------------------------------
// Reading the Pulumi configuration
// ---------------------------------------------------------------------------------------------------------

/**
 * Secret config keys: values only the operator knows, set with `pulumi config set --secret`. Everything else the
 * program needs as a secret it generates itself (@pulumi/random, @pulumi/tls).
 */
export const SECRET_KEYS = {
    /** Password of `central.objectStorage.adminUser` on the existing MinIO (central only). */
    minioPassword: "central",
    /** Password for `images.pullSecret.username` on the registry mirror (only when pullSecret is set). */
    registryPassword: "pullSecret",
} as const;
/** Fixed secret keys, or an alert receiver's `alertWebhook<Name>` named in the config. */
export type SecretKey = keyof typeof SECRET_KEYS | `alertWebhook${string}`;

/** Whether a config key (without the project prefix) is one an operator sets with `--secret`. */
export function isSecretKeyName(key: string): boolean {
    return key in SECRET_KEYS || WEBHOOK_SECRET_KEY.test(key);
}

/** The webhook secret keys a central configuration names (receivers and heartbeat). */
export function webhookSecretKeys(c: CentralConfig): `alertWebhook${string}`[] {
    const a = c.monitoring.alerting;
    const h = a.heartbeat;
    const keys = [...a.receivers.map((r) => r.webhookUrlSecret), ...(h ? [h.webhookUrlSecret, ...(h.selfMonitoringWebhookUrlSecret ? [h.selfMonitoringWebhookUrlSecret] : [])] : [])];
    return [...new Set(keys)] as `alertWebhook${string}`[];
}

/** The secret keys this configuration needs. */
export function requiredSecrets(cfg: StackConfig): SecretKey[] {
    const keys: SecretKey[] = [];
    if (cfg.role === "central") keys.push("minioPassword");
    if (cfg.central) keys.push(...webhookSecretKeys(cfg.central));
    if (cfg.images.pullSecret) keys.push("registryPassword");
    return keys;
}

/** A word (a key, a value) as the operator types it in a POSIX shell: quoted when the shell would change it. */
function shellWord(w: string): string {
    return /^[A-Za-z0-9_@%+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, "'\\''")}'`;
}

/**
 * Edit distance with transpositions (optimal string alignment): `agent-reciever` is one step from `agent-receiver`,
 * `kubernetes` or `minio` are many.
 */
function editDistance(a: string, b: string): number {
    const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
    for (let i = 1; i <= a.length; i++) {
        for (let j = 1; j <= b.length; j++) {
            const cost = a[i - 1] === b[j - 1] ? 0 : 1;
            d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
            if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
        }
    }
    return d[a.length][b.length];
}

/**
 * A config namespace this close to the project's is a typo of it (`agent-reciever`, `agent_receiver`,
 * `Agent-Receiver`): its keys would be silently ignored. Every provider's or the engine's namespace (`kubernetes`,
 * `minio`, `pulumi`, `random`, `tls`) is far from it.
 */
const NAMESPACE_TYPO_DISTANCE = 2;

/**
 * Problems of the flat config map itself, before the schema: a namespace that is a typo of the project's, and a key
 * set without `--path` whose name holds a path (`kubernetes.renderYamlToDirectory`, `edge.tenants[0].quota.cpu`):
 * the program reads nested keys from the top-level object, so such a key would be ignored, or called unknown.
 */
function flatKeyProblem(stack: string, fullKey: string, value: string, secret: boolean): Problem | undefined {
    const colon = fullKey.indexOf(":");
    if (colon < 0) return undefined;
    const namespace = fullKey.slice(0, colon);
    const key = fullKey.slice(colon + 1);
    if (namespace !== PROJECT) {
        if (editDistance(namespace.toLowerCase(), PROJECT) > NAMESPACE_TYPO_DISTANCE) return undefined; // a provider's, the engine's
        return {
            path: fullKey,
            message:
                `the config namespace "${namespace}" is not this project's: did you mean ${PROJECT}? ` +
                `The program would ignore this key. Rename it to ${PROJECT}:${key} in Pulumi.${stack}.yaml`,
        };
    }
    if (!/[.[]/.test(key)) return undefined;
    const set = secret
        ? `pulumi config set --secret --path ${shellWord(fullKey)} <value> --stack ${stack}`
        : `pulumi config set --path ${shellWord(fullKey)} ${shellWord(value)} --stack ${stack}`;
    return {
        path: fullKey,
        message:
            `is one flat key named "${key}", set without --path, so the program does not read it as a nested key. ` +
            `Set it again with --path: pulumi config rm ${shellWord(fullKey)} --stack ${stack} && ${set}`,
    };
}

/** Why a secret key the operator set is not used by this configuration. */
function unusedSecretReason(key: string): string {
    if (key === "minioPassword") return "only the central stack logs in to MinIO";
    if (key === "registryPassword") return "agent-receiver:images.pullSecret is not set";
    return "no receiver or heartbeat in agent-receiver:central.monitoring.alerting names it";
}

/**
 * Parse the flat `agent-receiver:*` config map (values as Pulumi stores them: strings, objects as JSON) into the
 * typed stack config, checking the map's own keys, that every needed secret is present and was set with `--secret`,
 * and that no operator secret the stack does not use sits there in plaintext. Every problem is reported at once.
 */
export function parseFlatConfig(
    stack: string,
    flat: Record<string, string>,
    isSecret: (key: string) => boolean,
): StackConfig {
    const raw: Record<string, unknown> = {};
    const secretPresent = new Set<string>();
    const problems: Problem[] = [];
    for (const [fullKey, value] of Object.entries(flat)) {
        const flatProblem = flatKeyProblem(stack, fullKey, value, isSecret(fullKey));
        if (flatProblem) {
            problems.push(flatProblem);
            continue;
        }
        if (!fullKey.startsWith(`${PROJECT}:`)) continue; // other namespaces (kubernetes:, pulumi:) are not ours
        const key = fullKey.slice(PROJECT.length + 1);
        if (isSecretKeyName(key)) {
            secretPresent.add(key);
            continue;
        }
        raw[key] = /^\s*[[{]/.test(value) ? JSON.parse(value) : value;
    }
    const { config, problems: schemaProblems } = checkStackConfig(stack, raw);
    problems.push(...schemaProblems);
    if (config) {
        const required = requiredSecrets(config);
        for (const key of required) {
            if (!secretPresent.has(key)) {
                problems.push({ path: `${PROJECT}:${key}`, message: `is required: pulumi config set --secret ${PROJECT}:${key} --stack ${stack}` });
            } else if (!isSecret(`${PROJECT}:${key}`)) {
                problems.push({ path: `${PROJECT}:${key}`, message: `is stored in plaintext: set it again with --secret` });
            }
        }
        // The README promises no plaintext secret: one the stack does not use is still a secret in the stack file.
        for (const key of secretPresent) {
            if ((required as string[]).includes(key) || isSecret(`${PROJECT}:${key}`)) continue;
            problems.push({
                path: `${PROJECT}:${key}`,
                message:
                    `is stored in plaintext and this stack does not use it (${unusedSecretReason(key)}): ` +
                    `remove it: pulumi config rm ${PROJECT}:${key} --stack ${stack}`,
            });
        }
    }
    if (problems.length > 0 || !config) throw new ConfigError(stack, problems);
    return config;
}
