/**
 * Tenancy on a shared edge cluster (cluster-02's A and B): the node label and taint that place a tenant's pods.
 * Pure values and functions; `components/tenantIsolation.ts` turns them into resources.
 */

/**
 * Label on every node of a tenant (`node-restriction.kubernetes.io/tenant=<name>`). Its prefix is the one the
 * NodeRestriction admission plugin reserves for administrators: a kubelet may neither register its Node with such a
 * label nor add, change or remove one on update. A node therefore cannot claim another tenant's workloads (or be
 * counted by the other tenant's agent) by labelling itself. Only an API client with `patch nodes` (this program)
 * sets it. Needs NodeRestriction enabled on the API server (kubeadm's default).
 */
export const TENANT_NODE_LABEL = "node-restriction.kubernetes.io/tenant";

/**
 * The tenant node label before it moved under `node-restriction.kubernetes.io/`: a kubelet can set it on its own
 * Node. Kept on the nodes (and, with the admission policy, accepted in tenant pods' nodeSelector) only while
 * `edge.legacyTenantNodeLabel` is on, the migration window described in the README ("Tenancy on cluster-02").
 */
export const LEGACY_TENANT_NODE_LABEL = "tenant";

/**
 * Key of the taint on every node of a tenant (`tenant=<name>:<effect>`), unchanged. NodeRestriction forbids a
 * kubelet to modify its Node's taints whatever their key, and a taint only repels: a node that registers itself
 * with an extra taint repels more pods, it attracts none. The prefix would protect nothing here, and a new key
 * would be a second migration of every toleration. Placement is enforced by the admission policy, not by the taint.
 */
export const TENANT_TAINT_KEY = "tenant";

/** Label on a tenant's namespaces naming the tenant (unchanged; nothing selects on it for security). */
export const TENANT_NAMESPACE_LABEL = "tenant";

/**
 * The name Prometheus' Kubernetes discovery gives a node label: `__meta_kubernetes_node_label_<name>` with every
 * character outside `[a-zA-Z0-9_]` replaced by `_` (`node-restriction.kubernetes.io/tenant` →
 * `__meta_kubernetes_node_label_node_restriction_kubernetes_io_tenant`).
 */
export function nodeLabelMeta(label: string): string {
    return `__meta_kubernetes_node_label_${label.replace(/[^a-zA-Z0-9_]/g, "_")}`;
}

/** The labels the program puts on a tenant's nodes: the tenant label, and the legacy one during the migration. */
export function tenantNodeLabels(tenant: string, legacy: boolean): Record<string, string> {
    return legacy ? { [TENANT_NODE_LABEL]: tenant, [LEGACY_TENANT_NODE_LABEL]: tenant } : { [TENANT_NODE_LABEL]: tenant };
}

/** What a tenant's pods (and the platform's per-tenant pods) put in `spec.nodeSelector`. */
export function tenantNodeSelector(tenant: string): Record<string, string> {
    return { [TENANT_NODE_LABEL]: tenant };
}
