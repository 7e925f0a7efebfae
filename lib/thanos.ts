/** What every Thanos workload shares: ports, probes, the container shape. Pure functions only. */
import type * as k8s from "@pulumi/kubernetes";
import type * as pulumi from "@pulumi/pulumi";
import { stringify } from "yaml";
import { hardenedContainer } from "./k8s";

export const THANOS_PORTS = { grpc: 10901, http: 10902, remoteWrite: 19291 } as const;

/** The label every Thanos replica carries and Query/Compactor deduplicate on. */
export const REPLICA_LABEL = "replica";
/** Thanos' own tenant label (`--receive.tenant-label-name`); also what edges must not set themselves. */
export const TENANT_LABEL = "tenant_id";

export interface ThanosContainerArgs {
    readonly name: string;
    readonly image: string;
    /** Thanos subcommand and its flags. */
    readonly args: string[];
    readonly resources: k8s.types.input.core.v1.ResourceRequirements;
    readonly env?: k8s.types.input.core.v1.EnvVar[];
    readonly volumeMounts?: k8s.types.input.core.v1.VolumeMount[];
    /** Extra ports besides grpc/http. */
    readonly extraPorts?: k8s.types.input.core.v1.ContainerPort[];
    /** Expose the gRPC StoreAPI port (Query Frontend has none). */
    readonly grpc?: boolean;
}

/** kube-thanos' probe timing for most components: liveness every 30 s (8 failures), readiness every 5 s (20). */
export const DEFAULT_PROBES = { liveness: { periodSeconds: 30, failureThreshold: 8 }, readiness: { periodSeconds: 5, failureThreshold: 20 } };
type ProbeTiming = { periodSeconds: number; failureThreshold: number; initialDelaySeconds?: number };

/** A Thanos container with the upstream probes (kube-thanos): /-/healthy for liveness, /-/ready for readiness. */
export function thanosContainer(a: ThanosContainerArgs & { probes?: { liveness: ProbeTiming; readiness: ProbeTiming } }): k8s.types.input.core.v1.Container {
    const probes = a.probes ?? DEFAULT_PROBES;
    const ports: k8s.types.input.core.v1.ContainerPort[] = [{ name: "http", containerPort: THANOS_PORTS.http }];
    if (a.grpc !== false) ports.unshift({ name: "grpc", containerPort: THANOS_PORTS.grpc });
    return hardenedContainer({
        name: a.name,
        image: a.image,
        args: a.args,
        env: a.env,
        ports: [...ports, ...(a.extraPorts ?? [])],
        resources: a.resources,
        volumeMounts: a.volumeMounts,
        livenessProbe: { httpGet: { path: "/-/healthy", port: "http" }, ...probes.liveness },
        readinessProbe: { httpGet: { path: "/-/ready", port: "http" }, ...probes.readiness },
    });
}

/** Service ports of a Thanos component that serves the StoreAPI (gRPC) and HTTP, by the container ports' names. */
export function thanosServicePorts(): k8s.types.input.core.v1.ServicePort[] {
    return [
        { name: "grpc", port: THANOS_PORTS.grpc, targetPort: "grpc" },
        { name: "http", port: THANOS_PORTS.http, targetPort: "http" },
    ];
}

/**
 * Common leading flags of every Thanos component. Every Thanos container carries a memory limit (the config gives each
 * one), so the Go runtime is told about it: `--enable-auto-gomemlimit` sets GOMEMLIMIT to 90 % of the cgroup's limit
 * (`--auto-gomemlimit.ratio`), and the garbage collector works harder near the limit instead of the kernel OOM-killing
 * the process (a Receive replica killed replays its WAL and leaves the quorum meanwhile).
 */
export function thanosBaseArgs(subcommand: string, grpc = true): string[] {
    const args = [subcommand, "--log.level=info", "--log.format=logfmt", "--enable-auto-gomemlimit", `--http-address=0.0.0.0:${THANOS_PORTS.http}`];
    if (grpc) args.push(`--grpc-address=0.0.0.0:${THANOS_PORTS.grpc}`);
    return args;
}

/** DNS SRV address of a headless Service's named port, as Thanos' service discovery resolves it. */
export function dnsSrv(port: string, service: string, namespace: string): string {
    return `dnssrv+_${port}._tcp.${service}.${namespace}.svc.cluster.local`;
}

/** Mount of the `objstore.yml` Secret every bucket-reading component uses. */
export const OBJSTORE_FLAG = "--objstore.config-file=/etc/thanos/objstore/objstore.yml";
export function objstoreVolume(secretName: pulumi.Input<string>): { volume: k8s.types.input.core.v1.Volume; mount: k8s.types.input.core.v1.VolumeMount } {
    return {
        volume: { name: "objstore", secret: { secretName } },
        mount: { name: "objstore", mountPath: "/etc/thanos/objstore", readOnly: true },
    };
}

/** A data volume claim template for a Thanos StatefulSet. */
export function dataClaim(storageClass: string, size: string, selector: Record<string, string>): k8s.types.input.core.v1.PersistentVolumeClaim {
    return {
        metadata: { name: "data", labels: selector },
        spec: { accessModes: ["ReadWriteOnce"], storageClassName: storageClass, resources: { requests: { storage: size } } },
    };
}

/** Thanos' memcached client settings (cacheutil.MemcachedClientConfig), the same for every cache the platform uses. */
export function memcachedClientConfig(addresses: string[], maxItemSizeMiB: number): Record<string, unknown> {
    return {
        addresses,
        timeout: "500ms",
        max_idle_connections: 100,
        max_async_concurrency: 20,
        max_async_buffer_size: 10000,
        max_get_multi_concurrency: 100,
        max_get_multi_batch_size: 100,
        max_item_size: `${maxItemSizeMiB}MiB`,
        dns_provider_update_interval: "10s",
    };
}

/**
 * Where a Thanos component sends its traces (`central.tracing`): one OTLP endpoint for every component, and the
 * egress that reaches it (addresses from the flow table, the endpoint's port).
 */
export interface ThanosTracing {
    /** The collector, host:port (no scheme: Thanos passes it to the OTLP exporter's WithEndpoint). */
    readonly otlpEndpoint: string;
    readonly protocol: "grpc" | "http";
    /** Plaintext when true; otherwise TLS verified against the image's system CAs. */
    readonly insecure: boolean;
    readonly serverName?: string;
    /** Share of root requests traced, 0 to 1. */
    readonly samplingRatio: number;
    /** The `cluster` resource attribute on every span, so spans of two central clusters (two regions) stay apart. */
    readonly cluster: string;
    readonly egress: { readonly cidrs: readonly string[]; readonly port: number };
}

/**
 * The sampler: parent-based, so a request sampled where it enters (the frontend, Query, Receive's write handler) is
 * traced through every component it reaches, and one not sampled is traced nowhere; a ratio of the root requests.
 * Thanos matches the name case-insensitively (pkg/tracing/otlp/otlp.go getSampler); an unknown name silently samples
 * everything, which is why the test checks it against the names at the pinned version.
 */
export const OTLP_SAMPLER_TYPE = "parentbasedtraceidratiobased";

/** The `--tracing.config` content of one component: Thanos' tracing config of type OTLP. */
export function tracingConfig(t: ThanosTracing, serviceName: string): string {
    return stringify({
        type: "OTLP",
        config: {
            client_type: t.protocol,
            service_name: serviceName,
            resource_attributes: { cluster: t.cluster },
            endpoint: t.otlpEndpoint,
            insecure: t.insecure,
            ...(t.serverName !== undefined ? { tls_config: { server_name: t.serverName } } : {}),
            sampler_type: OTLP_SAMPLER_TYPE,
            // A string in Thanos' Config (SamplerParam), parsed with strconv.ParseFloat.
            sampler_param: String(t.samplingRatio),
        },
    });
}

/** The tracing flag of a component: none without tracing, so a stack without `central.tracing` plans as before. */
export function tracingArgs(t: ThanosTracing | undefined, serviceName: string): string[] {
    return t === undefined ? [] : [`--tracing.config=${tracingConfig(t, serviceName)}`];
}

/** The egress rule to the collector (none without tracing). */
export function tracingEgress(t: ThanosTracing | undefined): k8s.types.input.networking.v1.NetworkPolicyEgressRule[] {
    if (t === undefined) return [];
    return [{ to: t.egress.cidrs.map((cidr) => ({ ipBlock: { cidr } })), ports: [{ protocol: "TCP", port: t.egress.port }] }];
}
