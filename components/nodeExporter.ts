import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { charts, pinnedChartArgs } from "../lib/versions";

export interface NodeExporterArgs {
    /** Namespace with Pod Security `privileged`: node-exporter reads the host (hostNetwork, hostPID, hostPath). */
    readonly namespace: pulumi.Input<string>;
    readonly registryMirror?: string;
    readonly imagePullSecrets?: { name: string }[];
    /** Create a ServiceMonitor (central cluster, where the Prometheus Operator runs); edges scrape the nodes directly. */
    readonly serviceMonitor?: boolean;
    /** The ServiceMonitor's metric relabelling (Prometheus Operator form): the used metrics only, as on the edges. */
    readonly metricRelabelings?: unknown[];
    /**
     * Metrics in the text format that node-exporter's textfile collector serves as its own (a ConfigMap mounted into
     * its textfile directory): the edges publish the expiry of the certificates they mount this way. Absent: none.
     */
    readonly textfile?: pulumi.Input<string>;
}

/** Where the textfile ConfigMap is mounted and node-exporter reads `*.prom` files (`--collector.textfile.directory`). */
export const TEXTFILE_DIR = "/etc/node-exporter/textfile";
export const TEXTFILE_CONFIGMAP = "node-exporter-textfile";

/** Helm values for the pinned prometheus-node-exporter chart; checked against the chart's defaults by the tests. */
export function nodeExporterValues(a: Pick<NodeExporterArgs, "registryMirror" | "imagePullSecrets" | "serviceMonitor" | "metricRelabelings"> & { textfile?: boolean }): Record<string, unknown> {
    const textfile = a.textfile ? { configmaps: [{ name: TEXTFILE_CONFIGMAP, mountPath: TEXTFILE_DIR }], extraArgs: [`--collector.textfile.directory=${TEXTFILE_DIR}`] } : {};
    return {
        ...textfile,
        image: a.registryMirror ? { registry: `${a.registryMirror}/quay.io` } : {},
        imagePullSecrets: a.imagePullSecrets ?? [],
        // Every node, tenant nodes included: each tenant's agent scrapes only its own nodes' exporters.
        tolerations: [{ operator: "Exists" }],
        resources: { requests: { cpu: "20m", memory: "32Mi" }, limits: { memory: "64Mi" } },
        containerSecurityContext: {
            readOnlyRootFilesystem: true,
            allowPrivilegeEscalation: false,
            capabilities: { drop: ["ALL"] },
        },
        // The chart sets no seccomp profile (templates/daemonset.yaml, values securityContext); the runtime's default
        // profile is enough for reading /proc and /sys. Helm merges this into the chart's pod securityContext.
        securityContext: { seccompProfile: { type: "RuntimeDefault" } },
        // Edges: scraped directly on the node address by the agents (no operator there). Central: a ServiceMonitor.
        prometheus: { monitor: { enabled: a.serviceMonitor === true, ...(a.serviceMonitor && a.metricRelabelings ? { metricRelabelings: a.metricRelabelings } : {}) } },
    };
}

/** prometheus-node-exporter (official chart, pinned) as a DaemonSet on every node. */
export class NodeExporter extends pulumi.ComponentResource {
    public readonly port = 9100;

    constructor(name: string, args: NodeExporterArgs, opts?: pulumi.ComponentResourceOptions) {
        super("agent-receiver:edge:NodeExporter", name, {}, opts);
        const textfile =
            args.textfile === undefined
                ? []
                : [
                      new k8s.core.v1.ConfigMap(
                          `${name}-textfile`,
                          {
                              metadata: { name: TEXTFILE_CONFIGMAP, namespace: args.namespace, labels: { "app.kubernetes.io/part-of": "agent-receiver", "app.kubernetes.io/managed-by": "pulumi" } },
                              data: { "agent-receiver.prom": args.textfile },
                          },
                          { parent: this },
                      ),
                  ];
        new k8s.helm.v4.Chart(
            `${name}-chart`,
            pinnedChartArgs(charts.nodeExporter, args.namespace, nodeExporterValues({ ...args, textfile: textfile.length > 0 })),
            { parent: this, dependsOn: textfile },
        );
        this.registerOutputs({});
    }
}
