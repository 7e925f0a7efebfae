import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

export type PodSecurityLevel = "restricted" | "baseline" | "privileged";

export interface PlatformNamespaceArgs {
    /** Kubernetes name of the namespace (stable: other components and humans refer to it). */
    readonly namespace: string;
    /**
     * Pod Security Admission level enforced on the namespace. Default `restricted`; a lower level needs a reason
     * (`podSecurityReason`), which is written to an annotation so that it travels with the namespace.
     */
    readonly podSecurity?: PodSecurityLevel;
    readonly podSecurityReason?: string;
    readonly labels?: Record<string, string>;
    /** Registry mirror credentials; when set, a dockerconfigjson Secret is created in the namespace. */
    readonly pullSecret?: { registry: string; username: string; password: pulumi.Input<string> };
}

/** Name of the image pull Secret in every owned namespace. */
export const PULL_SECRET_NAME = "registry-mirror";

/**
 * A namespace the platform owns: Pod Security labels, default-deny ingress and egress, DNS egress, and the image
 * pull Secret. Workloads add their own explicit allows next to their Deployments.
 */
export class PlatformNamespace extends pulumi.ComponentResource {
    public readonly name: pulumi.Output<string>;
    /**
     * What a pod in this namespace puts in `imagePullSecrets`: the pull Secret's name, or `undefined` without a
     * mirror credential (so a pod spec carries no empty list).
     */
    public readonly imagePullSecrets: { name: string }[] | undefined;

    constructor(name: string, args: PlatformNamespaceArgs, opts?: pulumi.ComponentResourceOptions) {
        super("agent-receiver:platform:PlatformNamespace", name, {}, opts);
        const level = args.podSecurity ?? "restricted";
        if (level !== "restricted" && !args.podSecurityReason) {
            throw new Error(`namespace ${args.namespace}: Pod Security level ${level} needs a podSecurityReason`);
        }
        const ns = new k8s.core.v1.Namespace(
            name,
            {
                metadata: {
                    name: args.namespace,
                    labels: {
                        ...args.labels,
                        "app.kubernetes.io/part-of": "agent-receiver",
                        "app.kubernetes.io/managed-by": "pulumi",
                        "pod-security.kubernetes.io/enforce": level,
                        "pod-security.kubernetes.io/enforce-version": "latest",
                        // Warn and audit at restricted everywhere, so a relaxed namespace still reports what it allows.
                        "pod-security.kubernetes.io/warn": "restricted",
                        "pod-security.kubernetes.io/audit": "restricted",
                    },
                    annotations: args.podSecurityReason ? { "agent-receiver/pod-security-reason": args.podSecurityReason } : undefined,
                },
            },
            { parent: this },
        );
        this.name = ns.metadata.name;
        const namespace = args.namespace;

        new k8s.networking.v1.NetworkPolicy(
            `${name}-default-deny`,
            {
                metadata: { name: "default-deny", namespace },
                spec: { podSelector: {}, policyTypes: ["Ingress", "Egress"] },
            },
            { parent: this, dependsOn: ns },
        );
        new k8s.networking.v1.NetworkPolicy(
            `${name}-allow-dns`,
            {
                metadata: { name: "allow-dns", namespace },
                spec: {
                    podSelector: {},
                    policyTypes: ["Egress"],
                    egress: [
                        {
                            to: [
                                {
                                    namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": "kube-system" } },
                                    podSelector: { matchLabels: { "k8s-app": "kube-dns" } },
                                },
                            ],
                            ports: [
                                { protocol: "UDP", port: 53 },
                                { protocol: "TCP", port: 53 },
                            ],
                        },
                    ],
                },
            },
            { parent: this, dependsOn: ns },
        );

        if (args.pullSecret) {
            const ps = args.pullSecret;
            new k8s.core.v1.Secret(
                `${name}-pull-secret`,
                {
                    metadata: { name: PULL_SECRET_NAME, namespace },
                    type: "kubernetes.io/dockerconfigjson",
                    stringData: {
                        ".dockerconfigjson": pulumi.secret(
                            pulumi.output(ps.password).apply((password) =>
                                JSON.stringify({
                                    auths: {
                                        [ps.registry]: {
                                            username: ps.username,
                                            password,
                                            auth: Buffer.from(`${ps.username}:${password}`).toString("base64"),
                                        },
                                    },
                                }),
                            ),
                        ),
                    },
                },
                { parent: this, dependsOn: ns },
            );
        }
        this.imagePullSecrets = args.pullSecret ? [{ name: PULL_SECRET_NAME }] : undefined;
        this.registerOutputs({ name: this.name });
    }
}
