import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "crypto";
import type { Tenant } from "../lib/config";
import { hardenedContainer, restrictedPodSecurityContext } from "../lib/k8s";
import {
    TENANT_NAMESPACE_LABEL,
    TENANT_TEAM_ROLE,
    TENANT_TEAM_RULES,
    TENANT_TAINT_KEY,
    tenantNodeLabels,
    tenantNodeSelector,
    tenantPlacementBindingName,
    tenantPlacementPolicyName,
    tenantPlacementPolicySpec,
} from "../lib/tenancy";
import { PlatformNamespace } from "./platformNamespace";

export interface TenantIsolationArgs {
    readonly tenant: Tenant;
    readonly taintEffect: "NoSchedule" | "PreferNoSchedule" | "NoExecute";
    /** Also keep the legacy node label `tenant=<name>` (the migration window, `edge.legacyTenantNodeLabel`). */
    readonly legacyNodeLabel: boolean;
    /** Namespace of the platform's agents (the tenant's namespaces allow its agent to scrape them). */
    readonly platformNamespace: string;
    /** Pod labels of this tenant's agent. */
    readonly agentSelector: Record<string, string>;
    /** Image for the taint Job (official kubectl image). */
    readonly kubectlImage: string;
    /** CiliumNetworkPolicy egress rules of the taint Job: the API server. */
    readonly taintJobEgress: Record<string, unknown>[];
    readonly imagePullSecrets?: { name: string }[];
    readonly pullSecret?: { registry: string; username: string; password: pulumi.Input<string> };
}

/** Pod labels of a tenant's taint Job. */
export function taintJobSelector(tenant: string): Record<string, string> {
    return { "app.kubernetes.io/name": "tenant-taint", "app.kubernetes.io/instance": tenant };
}

/** The taint every node of a tenant carries; only the tenant's workloads (and node agents) tolerate it. */
export function tenantToleration(tenant: string, effect: string): k8s.types.input.core.v1.Toleration {
    return { key: TENANT_TAINT_KEY, operator: "Equal", value: tenant, effect };
}

/**
 * One tenant of a shared cluster (cluster-02's A and B): its nodes labelled and tainted, its namespaces with quota,
 * limits and default-deny network policy, placement that keeps its pods on its own nodes (enforced by a
 * ValidatingAdmissionPolicy bound to each of its namespaces), and its team's Role in each namespace.
 *
 * Node labels are a server-side patch of the existing Node (map keys merge, other owners' labels stay). Taints are
 * an atomic list under server-side apply: owning `spec.taints` would replace the node lifecycle controller's taints.
 * So taints are set by a Job running `kubectl taint --overwrite` for this tenant's key only, which never touches
 * other taints; it runs again whenever the tenant's node list or effect changes.
 */
export class TenantIsolation extends pulumi.ComponentResource {
    public readonly namespaces: string[];
    public readonly nodeSelector: Record<string, string>;
    public readonly toleration: k8s.types.input.core.v1.Toleration;
    /**
     * The patches that put the tenant label on its nodes. Whatever selects nodes by that label (the tenant's agent
     * and kube-state-metrics) depends on them: a `pulumi up` that fails to label a node stops before the agent
     * selects nodes by a label that is not there.
     */
    public readonly nodeLabels: pulumi.Resource[];

    constructor(name: string, args: TenantIsolationArgs, opts?: pulumi.ComponentResourceOptions) {
        super("agent-receiver:tenancy:TenantIsolation", name, {}, opts);
        const t = args.tenant;
        this.namespaces = [...t.namespaces];
        this.nodeSelector = tenantNodeSelector(t.name);
        this.toleration = tenantToleration(t.name, args.taintEffect);

        // Server-side apply with this patch's own field manager: labels merge with other owners'. A label dropped
        // from the patch (the legacy one, when the migration ends) is removed if no other manager owns it.
        this.nodeLabels = t.nodes.map(
            (node) =>
                new k8s.core.v1.NodePatch(
                    `${name}-node-${node}`,
                    { metadata: { name: node, labels: tenantNodeLabels(t.name, args.legacyNodeLabel) } },
                    { parent: this, retainOnDelete: true },
                ),
        );

        // The taint Job: cluster-scoped RBAC limited to this tenant's nodes by name, in the platform namespace.
        const jobLabels = { ...taintJobSelector(t.name), "app.kubernetes.io/part-of": "agent-receiver" };
        const saName = `tenant-taint-${t.name}`;
        new k8s.core.v1.ServiceAccount(`${name}-taint-sa`, { metadata: { name: saName, namespace: args.platformNamespace, labels: jobLabels } }, { parent: this });
        const role = new k8s.rbac.v1.ClusterRole(
            `${name}-taint`,
            {
                metadata: { name: saName, labels: jobLabels },
                rules: [{ apiGroups: [""], resources: ["nodes"], resourceNames: [...t.nodes], verbs: ["get", "patch"] }],
            },
            { parent: this },
        );
        new k8s.rbac.v1.ClusterRoleBinding(
            `${name}-taint`,
            {
                metadata: { name: saName, labels: jobLabels },
                roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: role.metadata.name },
                subjects: [{ kind: "ServiceAccount", name: saName, namespace: args.platformNamespace }],
            },
            { parent: this },
        );
        // The Job's only traffic besides DNS (the namespace's allow-dns): `kubectl taint` to the API server.
        new k8s.apiextensions.CustomResource(
            `${name}-taint-apiserver`,
            {
                apiVersion: "cilium.io/v2",
                kind: "CiliumNetworkPolicy",
                metadata: { name: `${saName}-apiserver`, namespace: args.platformNamespace, labels: jobLabels },
                spec: { endpointSelector: { matchLabels: taintJobSelector(t.name) }, egress: args.taintJobEgress },
            },
            { parent: this },
        );
        const taint = `${TENANT_TAINT_KEY}=${t.name}:${args.taintEffect}`;
        const specHash = createHash("sha256").update(JSON.stringify([t.nodes, taint])).digest("hex").slice(0, 8);
        new k8s.batch.v1.Job(
            `${name}-taint-${specHash}`,
            {
                metadata: { name: `${saName}-${specHash}`, namespace: args.platformNamespace, labels: jobLabels },
                spec: {
                    backoffLimit: 3,
                    // No ttlSecondsAfterFinished: a Job the TTL controller deletes would show as drift and be re-created.
                    template: {
                        metadata: { labels: jobLabels },
                        spec: {
                            serviceAccountName: saName,
                            restartPolicy: "OnFailure",
                            imagePullSecrets: args.imagePullSecrets,
                            securityContext: restrictedPodSecurityContext(),
                            // The Job must run before the taint exists and after: tolerate it.
                            tolerations: [tenantToleration(t.name, args.taintEffect)],
                            containers: [
                                hardenedContainer({
                                    name: "taint",
                                    image: args.kubectlImage,
                                    command: ["kubectl", "taint", "nodes", ...t.nodes, taint, "--overwrite"],
                                    resources: { requests: { cpu: "10m", memory: "32Mi" }, limits: { memory: "64Mi" } },
                                }),
                            ],
                        },
                    },
                },
            },
            { parent: this, deleteBeforeReplace: true },
        );

        // Placement is enforced, not voluntary: a ValidatingAdmissionPolicy (Kubernetes >= 1.30) refuses a pod in the
        // tenant's namespaces that does not select the tenant's nodes, tolerates another tenant's taint or every
        // taint, or names a foreign node. Pods made by controllers are covered: each pod is admitted itself.
        const policy = new k8s.admissionregistration.v1.ValidatingAdmissionPolicy(
            `${name}-placement`,
            {
                metadata: { name: tenantPlacementPolicyName(t.name), labels: { "app.kubernetes.io/part-of": "agent-receiver" } },
                spec: tenantPlacementPolicySpec({ tenant: t.name, nodes: t.nodes, legacyNodeLabel: args.legacyNodeLabel, taintEffect: args.taintEffect }),
            },
            { parent: this },
        );

        for (const namespace of t.namespaces) {
            // One binding per namespace, selected by the name the API server itself sets on every namespace.
            new k8s.admissionregistration.v1.ValidatingAdmissionPolicyBinding(
                `${name}-${namespace}-placement`,
                {
                    metadata: { name: tenantPlacementBindingName(t.name, namespace), labels: { "app.kubernetes.io/part-of": "agent-receiver" } },
                    spec: {
                        policyName: policy.metadata.name,
                        validationActions: ["Deny"],
                        matchResources: { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": namespace } } },
                    },
                },
                { parent: this },
            );
            const nsc = new PlatformNamespace(
                `${name}-${namespace}`,
                { namespace, labels: { [TENANT_NAMESPACE_LABEL]: t.name }, pullSecret: args.pullSecret },
                { parent: this },
            );
            new k8s.core.v1.ResourceQuota(
                `${name}-${namespace}-quota`,
                {
                    metadata: { name: "tenant-quota", namespace: nsc.name },
                    spec: {
                        hard: {
                            "requests.cpu": t.quota.cpu,
                            "limits.memory": t.quota.memory,
                            "requests.memory": t.quota.memory,
                            pods: String(t.quota.pods),
                        },
                    },
                },
                { parent: this },
            );
            new k8s.core.v1.LimitRange(
                `${name}-${namespace}-limits`,
                {
                    metadata: { name: "tenant-defaults", namespace: nsc.name },
                    spec: {
                        limits: [
                            {
                                type: "Container",
                                default: { memory: "512Mi" },
                                defaultRequest: { cpu: "100m", memory: "128Mi" },
                                max: { memory: t.quota.memory },
                            },
                        ],
                    },
                },
                { parent: this },
            );
            // The tenant team (the configured group): runs workloads, cannot change what isolates and limits them.
            const teamRole = new k8s.rbac.v1.Role(
                `${name}-${namespace}-team`,
                {
                    metadata: { name: TENANT_TEAM_ROLE, namespace: nsc.name, labels: { "app.kubernetes.io/part-of": "agent-receiver" } },
                    rules: TENANT_TEAM_RULES.map((r) => ({ apiGroups: [...r.apiGroups], resources: [...r.resources], verbs: [...r.verbs] })),
                },
                { parent: this },
            );
            new k8s.rbac.v1.RoleBinding(
                `${name}-${namespace}-team`,
                {
                    metadata: { name: "tenant-team", namespace: nsc.name, labels: { "app.kubernetes.io/part-of": "agent-receiver" } },
                    roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: teamRole.metadata.name },
                    subjects: [{ kind: "Group", apiGroup: "rbac.authorization.k8s.io", name: t.group }],
                },
                { parent: this },
            );
            // Allows on top of the namespace's default deny: traffic within the tenant's own namespaces, and its
            // agent scraping it. Nothing from the other tenant.
            const tenantPeers = t.namespaces.map((n) => ({ namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": n } } }));
            new k8s.networking.v1.NetworkPolicy(
                `${name}-${namespace}-allow-tenant`,
                {
                    metadata: { name: "allow-tenant", namespace: nsc.name },
                    spec: {
                        podSelector: {},
                        policyTypes: ["Ingress", "Egress"],
                        ingress: [
                            { from: tenantPeers },
                            {
                                from: [
                                    {
                                        namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": args.platformNamespace } },
                                        podSelector: { matchLabels: args.agentSelector },
                                    },
                                ],
                            },
                        ],
                        egress: [{ to: tenantPeers }],
                    },
                },
                { parent: this },
            );
        }
        this.registerOutputs({ namespaces: this.namespaces });
    }
}
