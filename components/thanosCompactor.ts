import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { Resources } from "../lib/config";
import { commonLabels, resourceRequirements, restrictedPodSecurityContext, selectorLabels } from "../lib/k8s";
import { OBJSTORE_FLAG, REPLICA_LABEL, THANOS_PORTS, ThanosTracing, dataClaim, objstoreVolume, thanosBaseArgs, thanosContainer, tracingArgs, tracingEgress } from "../lib/thanos";

export interface ThanosCompactorArgs {
    readonly namespace: pulumi.Input<string>;
    readonly image: string;
    readonly version: string;
    readonly imagePullSecrets?: { name: string }[];
    readonly storageClass: string;
    readonly storageSize: string;
    readonly resources: Resources;
    readonly objstoreSecretName: pulumi.Input<string>;
    readonly retention: { raw: string; fiveMinutes: string; oneHour: string };
    readonly objectStorageCidr: string;
    readonly objectStoragePort: number;
    readonly metricsScrapers: k8s.types.input.networking.v1.NetworkPolicyPeer[];
    /** Where to send traces (`central.tracing`); absent: no tracing flag and no egress to a collector. */
    readonly tracing?: ThanosTracing;
}

export const COMPACTOR_NAME = "thanos-compact";

/** The compactor's flags: downsampling (5m, 1h), retention per resolution, vertical deduplication of replicas. */
export function compactorArgs(retention: ThanosCompactorArgs["retention"]): string[] {
    return [
        ...thanosBaseArgs("compact", false),
        "--wait",
        "--wait-interval=5m",
        "--data-dir=/var/thanos/compact",
        OBJSTORE_FLAG,
        `--retention.resolution-raw=${retention.raw}`,
        `--retention.resolution-5m=${retention.fiveMinutes}`,
        `--retention.resolution-1h=${retention.oneHour}`,
        // Receive writes every sample RF times, each copy with its own `replica` label: merge them into one block.
        // Out-of-order ingestion also produces overlapping blocks, which only vertical compaction accepts.
        "--compact.enable-vertical-compaction",
        `--deduplication.replica-label=${REPLICA_LABEL}`,
        "--delete-delay=48h",
        "--compact.concurrency=1",
        "--downsample.concurrency=1",
    ];
}

/**
 * The compactor: exactly one per bucket (two would corrupt it), a StatefulSet of one with a data volume, Recreate
 * semantics through the StatefulSet's ordered rollout.
 */
export class ThanosCompactor extends pulumi.ComponentResource {
    constructor(name: string, args: ThanosCompactorArgs, opts?: pulumi.ComponentResourceOptions) {
        super("agent-receiver:thanos:ThanosCompactor", name, {}, opts);
        const selector = selectorLabels(COMPACTOR_NAME, name, "database-compactor");
        const labels = commonLabels(COMPACTOR_NAME, name, "database-compactor", args.version);
        const objstore = objstoreVolume(args.objstoreSecretName);

        new k8s.core.v1.Service(
            `${name}-service`,
            {
                metadata: { name: COMPACTOR_NAME, namespace: args.namespace, labels },
                spec: { clusterIP: "None", selector, ports: [{ name: "http", port: THANOS_PORTS.http, targetPort: "http" }] },
            },
            { parent: this },
        );
        new k8s.apps.v1.StatefulSet(
            `${name}-statefulset`,
            {
                metadata: { name: COMPACTOR_NAME, namespace: args.namespace, labels },
                spec: {
                    replicas: 1,
                    serviceName: COMPACTOR_NAME,
                    selector: { matchLabels: selector },
                    persistentVolumeClaimRetentionPolicy: { whenDeleted: "Retain", whenScaled: "Retain" },
                    template: {
                        metadata: { labels },
                        spec: {
                            automountServiceAccountToken: false,
                            imagePullSecrets: args.imagePullSecrets,
                            securityContext: restrictedPodSecurityContext(),
                            terminationGracePeriodSeconds: 120,
                            containers: [
                                thanosContainer({
                                    name: "thanos-compact",
                                    image: args.image,
                                    args: [...compactorArgs(args.retention), ...tracingArgs(args.tracing, COMPACTOR_NAME)],
                                    grpc: false,
                                    resources: resourceRequirements(args.resources),
                                    volumeMounts: [{ name: "data", mountPath: "/var/thanos/compact" }, objstore.mount],
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
                metadata: { name: COMPACTOR_NAME, namespace: args.namespace, labels },
                spec: {
                    podSelector: { matchLabels: selector },
                    policyTypes: ["Ingress", "Egress"],
                    ingress: [{ from: args.metricsScrapers, ports: [{ protocol: "TCP", port: THANOS_PORTS.http }] }],
                    egress: [{ to: [{ ipBlock: { cidr: args.objectStorageCidr } }], ports: [{ protocol: "TCP", port: args.objectStoragePort }] }, ...tracingEgress(args.tracing)],
                },
            },
            { parent: this },
        );
        this.registerOutputs({});
    }
}
