import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "crypto";
import { FluentBitConfig, fluentBitConfig } from "../lib/fluentBitConfig";
import { nonEmptyTo } from "../lib/k8s";
import { charts, pinnedChartArgs } from "../lib/versions";

type Peer = k8s.types.input.networking.v1.NetworkPolicyPeer;

export interface LogShipperArgs {
    /** Namespace with Pod Security `privileged` (Fluent Bit reads the node's log files through hostPath). */
    readonly namespace: pulumi.Input<string>;
    readonly cluster: string;
    readonly tenantOfNamespace: Record<string, string>;
    /** OpenSearch `host:port` as this cluster reaches it. */
    readonly endpoint: string;
    readonly caCertPem: pulumi.Input<string>;
    /** This cluster's own OpenSearch credential (a secret). */
    readonly credential: pulumi.Input<{ username: string; password: string }>;
    readonly registryMirror?: string;
    readonly imagePullSecrets?: { name: string }[];
    /** Who scrapes Fluent Bit's metrics (the cluster's Prometheus or agents). */
    readonly metricsScrapers: Peer[];
    /** Where OpenSearch is: its pods (on the central cluster) or its LoadBalancer's address (CIDRs, from an edge). */
    readonly destination: { readonly peers?: Peer[]; readonly cidrs?: string[] };
    /** CiliumNetworkPolicy egress rules to entities (the API server, for the kubernetes filter). */
    readonly entityEgress: Record<string, unknown>[];
}

export const FLUENT_BIT_METRICS_PORT = 2020;
export const FLUENT_BIT_METRICS_PATH = "/api/v1/metrics/prometheus";
const PASSWORD_ENV = "OPENSEARCH_PASSWORD";
const STATE_DIR = "/var/fluent-bit/state";
const CA_DIR = "/fluent-bit/tls";

/** Helm values for the pinned fluent-bit chart (checked against its defaults by the tests). */
export function fluentBitValues(a: Pick<LogShipperArgs, "registryMirror" | "imagePullSecrets">, config: FluentBitConfig, credentialSecret: string, configHash: string): Record<string, unknown> {
    return {
        image: a.registryMirror ? { repository: `${a.registryMirror}/cr.fluentbit.io/fluent/fluent-bit` } : {},
        imagePullSecrets: a.imagePullSecrets ?? [],
        testFramework: { enabled: false },
        // Every node, tenant nodes included.
        tolerations: [{ operator: "Exists" }],
        resources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { memory: "256Mi" } },
        // Root only to read the node's log files (owned by root, mode 0640); nothing else: no capabilities, no
        // escalation, read-only image, RuntimeDefault seccomp. Listed in the README's exceptions.
        podSecurityContext: { seccompProfile: { type: "RuntimeDefault" } },
        securityContext: {
            runAsUser: 0,
            runAsNonRoot: false,
            readOnlyRootFilesystem: true,
            allowPrivilegeEscalation: false,
            capabilities: { drop: ["ALL"] },
            seccompProfile: { type: "RuntimeDefault" },
        },
        // The password reaches Fluent Bit as an environment variable from a Secret, never through the values.
        env: [{ name: PASSWORD_ENV, valueFrom: { secretKeyRef: { name: credentialSecret, key: "password" } } }],
        // A configuration change rolls the pods (the chart's checksum covers its ConfigMap, not our Secret).
        podAnnotations: {
            "agent-receiver/config-sha256": configHash,
            "prometheus.io/scrape": "true",
            "prometheus.io/port": String(FLUENT_BIT_METRICS_PORT),
            "prometheus.io/path": FLUENT_BIT_METRICS_PATH,
        },
        daemonSetVolumes: [
            { name: "varlog", hostPath: { path: "/var/log" } },
            { name: "state", hostPath: { path: STATE_DIR, type: "DirectoryOrCreate" } },
            { name: "opensearch-ca", secret: { secretName: credentialSecret, items: [{ key: "ca.crt", path: "ca.crt" }] } },
        ],
        daemonSetVolumeMounts: [
            { name: "varlog", mountPath: "/var/log", readOnly: true },
            { name: "state", mountPath: STATE_DIR },
            { name: "opensearch-ca", mountPath: CA_DIR, readOnly: true },
        ],
        luaScripts: config.luaScripts,
        config: { service: config.service, inputs: config.inputs, filters: config.filters, outputs: config.outputs },
        metricsPort: FLUENT_BIT_METRICS_PORT,
    };
}

/**
 * Fluent Bit (official chart, pinned) on every node: container logs with `cluster` (and `tenant`) fields, shipped
 * over TLS to the central OpenSearch with this cluster's own credential, buffered on the node's disk during outages.
 */
export class LogShipper extends pulumi.ComponentResource {
    public readonly config: FluentBitConfig;

    constructor(name: string, args: LogShipperArgs, opts?: pulumi.ComponentResourceOptions) {
        super("agent-receiver:logs:LogShipper", name, {}, opts);
        const labels = { "app.kubernetes.io/part-of": "agent-receiver", "app.kubernetes.io/managed-by": "pulumi" };
        const credentialSecret = "opensearch-credential";
        this.config = fluentBitConfig({
            cluster: args.cluster,
            tenantOfNamespace: args.tenantOfNamespace,
            endpoint: args.endpoint,
            username: `fluent-bit-${args.cluster}`,
            passwordEnv: PASSWORD_ENV,
            caFile: `${CA_DIR}/ca.crt`,
            metricsPort: FLUENT_BIT_METRICS_PORT,
            stateDir: STATE_DIR,
            bufferLimit: "2G",
        });
        const hash = createHash("sha256").update(JSON.stringify(this.config)).digest("hex").slice(0, 16);
        const secret = new k8s.core.v1.Secret(
            `${name}-credential`,
            {
                metadata: { name: credentialSecret, namespace: args.namespace, labels },
                stringData: {
                    password: pulumi.secret(pulumi.output(args.credential).apply((c) => c.password)),
                    "ca.crt": args.caCertPem,
                },
            },
            { parent: this },
        );
        new k8s.helm.v4.Chart(
            `${name}-chart`,
            { ...pinnedChartArgs(charts.fluentBit, args.namespace, fluentBitValues(args, this.config, credentialSecret, hash)), name: "fluent-bit" },
            { parent: this, dependsOn: secret },
        );
        const app = { matchLabels: { "app.kubernetes.io/name": "fluent-bit" } };
        new k8s.networking.v1.NetworkPolicy(
            `${name}-netpol`,
            {
                metadata: { name: "fluent-bit", namespace: args.namespace, labels },
                spec: {
                    podSelector: app,
                    policyTypes: ["Ingress", "Egress"],
                    ingress: [{ from: args.metricsScrapers, ports: [{ protocol: "TCP", port: FLUENT_BIT_METRICS_PORT }] }],
                    // OpenSearch only: its pods on cluster-01, its LoadBalancer address from an edge (an address outside
                    // this cluster, which Cilium matches by ipBlock). The API server is an entity: the rule below.
                    egress: nonEmptyTo([
                        {
                            to: [...(args.destination.peers ?? []), ...(args.destination.cidrs ?? []).map((cidr) => ({ ipBlock: { cidr } }))],
                            ports: [{ protocol: "TCP", port: Number(args.endpoint.split(":")[1]) }],
                        },
                    ]),
                },
            },
            { parent: this },
        );
        new k8s.apiextensions.CustomResource(
            `${name}-cilium-egress`,
            { apiVersion: "cilium.io/v2", kind: "CiliumNetworkPolicy", metadata: { name: "fluent-bit-egress", namespace: args.namespace, labels }, spec: { endpointSelector: app, egress: args.entityEgress } },
            { parent: this },
        );
        this.registerOutputs({});
    }
}
