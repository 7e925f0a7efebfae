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

// ---------------------------------------------------------------------------------------------------------
// Admission: a tenant's pods run on its own nodes only
// ---------------------------------------------------------------------------------------------------------

/** A CEL string literal of a name the schema already restricted to DNS characters (tenants, nodes, label keys). */
function celString(s: string): string {
    if (!/^[a-z0-9][a-z0-9./-]*$/.test(s)) throw new Error(`not a name that can be quoted in CEL as is: ${JSON.stringify(s)}`);
    return `'${s}'`;
}

export interface PlacementPolicyArgs {
    readonly tenant: string;
    /** The tenant's nodes: a pod that names its node (`spec.nodeName`) must name one of these. */
    readonly nodes: readonly string[];
    /** Migration window: `tenant=<name>` in a nodeSelector counts as the tenant's own selector too. */
    readonly legacyNodeLabel: boolean;
    /** Effect of the tenant taint, for the toleration the messages tell teams to write. */
    readonly taintEffect: string;
}

export interface PlacementValidation {
    readonly expression: string;
    readonly message: string;
    readonly reason: "Forbidden";
}

/**
 * The rules a pod in a tenant's namespaces must meet, as CEL for a ValidatingAdmissionPolicy (`object` is the pod,
 * `oldObject` the pod before an UPDATE, `request.operation` CREATE or UPDATE). Each message tells the tenant team
 * what to write.
 *
 * - **nodeSelector**: it must select the tenant's nodes by the tenant label (`spec.nodeSelector`, not node affinity:
 *   the scheduler requires the nodeSelector *and* any required node affinity, so with the selector fixed, affinity can
 *   narrow placement within the tenant's nodes but never widen it; required affinity terms are ORed and would each
 *   need checking). No tenant label may name another tenant.
 * - **tolerations of the tenant taint**: only `{key: tenant, operator: Equal, value: <own tenant>}`; another
 *   tenant's value and `operator: Exists` (any tenant) are refused.
 * - **wildcard tolerations**: a toleration without a key (the API allows it only with `operator: Exists`) tolerates
 *   every taint: refused.
 * - **spec.nodeName**: a pod that names its node skips the scheduler (only the kubelet's own admission checks it):
 *   it must be unset or one of the tenant's nodes.
 *
 * CREATE and UPDATE. A pod's nodeSelector and nodeName cannot change after creation (a pod with scheduling gates may
 * only gain nodeSelector keys), and tolerations can only be added. So an UPDATE is refused only for what it adds: a
 * toleration that was already on the pod, and a missing selector or a nodeName on a pod that predates the policy,
 * do not block controllers' updates (finalizer removal by the Job controller, label changes) of pods created
 * before it.
 *
 * The CEL is the common subset of Kubernetes' CEL and of the evaluator the tests run it with (@bufbuild/cel): field
 * selection guarded by `has()`, `in` on maps and lists, `all()`, comparisons, string and list literals, `? :`. Not
 * used: optional types (`.?field`, `[?key]`, `orValue()`: Kubernetes has them since 1.29, @bufbuild/cel 0.6.1 does
 * not parse them) and Kubernetes' own libraries (strings and lists extensions, `regex`, `url`, `ip`/`cidr`,
 * `quantity`, `authorizer`, `sets`), which the evaluator does not have.
 */
export function tenantPlacementValidations(a: PlacementPolicyArgs): PlacementValidation[] {
    const tenant = celString(a.tenant);
    const labels = a.legacyNodeLabel ? [TENANT_NODE_LABEL, LEGACY_TENANT_NODE_LABEL] : [TENANT_NODE_LABEL];
    const selects = (label: string, cmp: "==" | "!=") =>
        `(has(object.spec.nodeSelector) && ${celString(label)} in object.spec.nodeSelector && object.spec.nodeSelector[${celString(label)}] ${cmp} ${tenant})`;
    // A toleration that the pod already had before this UPDATE (tolerations can only be added to a pod).
    const alreadyThere = "(request.operation == 'UPDATE' && has(oldObject.spec.tolerations) && t in oldObject.spec.tolerations)";
    const tolerations = (rule: string) => `!has(object.spec.tolerations) || object.spec.tolerations.all(t, ${rule} || ${alreadyThere})`;
    const own = `${TENANT_NODE_LABEL}: ${a.tenant}`;
    const ownToleration = `{key: ${TENANT_TAINT_KEY}, operator: Equal, value: ${a.tenant}, effect: ${a.taintEffect}}`;
    const inTemplate = "(in a Deployment, StatefulSet, DaemonSet, Job or CronJob: in its pod template)";
    return [
        {
            expression:
                labels.map((l) => `!${selects(l, "!=")}`).join(" && ") +
                ` && (request.operation != 'CREATE' || ${labels.map((l) => selects(l, "==")).join(" || ")})`,
            message:
                `Pods in tenant ${a.tenant}'s namespaces run on tenant ${a.tenant}'s nodes only: set spec.nodeSelector ` +
                `{${own}} ${inTemplate}, and tolerate its taint with ${ownToleration}. No nodeSelector may name another tenant.` +
                (a.legacyNodeLabel ? ` (${LEGACY_TENANT_NODE_LABEL}: ${a.tenant} is still accepted during the label migration.)` : ""),
            reason: "Forbidden",
        },
        {
            expression: tolerations(
                `!has(t.key) || t.key != ${celString(TENANT_TAINT_KEY)} || ((!has(t.operator) || t.operator == 'Equal') && has(t.value) && t.value == ${tenant})`,
            ),
            message:
                `The only toleration of the ${TENANT_TAINT_KEY} taint allowed in tenant ${a.tenant}'s namespaces is ${ownToleration} ` +
                `(effect as needed). Tolerating another tenant's value, or the key with operator: Exists, is refused.`,
            reason: "Forbidden",
        },
        {
            expression: tolerations("(has(t.key) && t.key != '')"),
            message:
                `A toleration without a key tolerates every taint, other tenants' included: name the taint's key ` +
                `(for tenant ${a.tenant}'s nodes: ${ownToleration}).`,
            reason: "Forbidden",
        },
        {
            expression: `request.operation != 'CREATE' || !has(object.spec.nodeName) || object.spec.nodeName in [${a.nodes.map(celString).join(", ")}]`,
            message:
                `spec.nodeName skips the scheduler: leave it unset and select tenant ${a.tenant}'s nodes with spec.nodeSelector ` +
                `{${own}}, or name one of them: ${a.nodes.join(", ")}.`,
            reason: "Forbidden",
        },
    ];
}

/** The ValidatingAdmissionPolicy's spec for a tenant: pods, CREATE and UPDATE, the rules above; failing closed. */
export function tenantPlacementPolicySpec(a: PlacementPolicyArgs) {
    return {
        // An expression that errors (it should not: tests evaluate it on every case) refuses the pod.
        failurePolicy: "Fail",
        matchConstraints: {
            resourceRules: [{ apiGroups: [""], apiVersions: ["v1"], resources: ["pods"], operations: ["CREATE", "UPDATE"] }],
        },
        validations: tenantPlacementValidations(a),
    };
}

/** Name of a tenant's placement policy (cluster-scoped). */
export function tenantPlacementPolicyName(tenant: string): string {
    return `tenant-placement-${tenant}`;
}

/** Name of the binding of a tenant's placement policy to one of its namespaces (cluster-scoped). */
export function tenantPlacementBindingName(tenant: string, namespace: string): string {
    return `${tenantPlacementPolicyName(tenant)}-${namespace}`;
}

// ---------------------------------------------------------------------------------------------------------
// The tenant teams' RBAC
// ---------------------------------------------------------------------------------------------------------

export interface PolicyRule {
    readonly apiGroups: string[];
    readonly resources: string[];
    readonly verbs: string[];
}

const READ = ["get", "list", "watch"];
const WRITE = [...READ, "create", "update", "patch", "delete", "deletecollection"];

/** Name of the Role a tenant team holds in each of its namespaces. */
export const TENANT_TEAM_ROLE = "tenant-workloads";

/**
 * What a tenant team may do in each of its namespaces: run workloads (pods and the controllers that make them,
 * services, configuration, secrets, volumes, service accounts, autoscalers, disruption budgets, leases), debug them
 * (logs, exec, attach, port-forward, evictions) and read what constrains them. Not the built-in `edit` ClusterRole,
 * which can edit NetworkPolicies. Read-only: NetworkPolicies, ResourceQuotas and LimitRanges (the platform's
 * isolation and limits: a team sees why traffic is dropped or a pod refused, and cannot change it). Nothing on RBAC
 * (a team cannot grant itself or anyone else more), on Cilium's policies, or on admissionregistration: the placement
 * policy and its bindings are cluster-scoped, which a namespaced Role cannot grant at all. Namespaces are
 * cluster-scoped too, so their Pod Security labels stay the platform's. Explicit verbs and resources, no wildcard.
 */
export const TENANT_TEAM_RULES: readonly PolicyRule[] = [
    { apiGroups: [""], resources: ["pods", "services", "configmaps", "secrets", "persistentvolumeclaims", "serviceaccounts"], verbs: WRITE },
    { apiGroups: [""], resources: ["pods/log"], verbs: READ },
    // exec and attach are a POST (create), or a GET for WebSocket clients.
    { apiGroups: [""], resources: ["pods/exec", "pods/attach", "pods/portforward"], verbs: ["get", "create"] },
    { apiGroups: [""], resources: ["pods/eviction"], verbs: ["create"] },
    { apiGroups: [""], resources: ["events", "endpoints", "resourcequotas", "limitranges"], verbs: READ },
    { apiGroups: ["apps"], resources: ["deployments", "statefulsets", "daemonsets", "replicasets", "deployments/scale", "statefulsets/scale", "replicasets/scale"], verbs: WRITE },
    { apiGroups: ["apps"], resources: ["controllerrevisions"], verbs: READ },
    { apiGroups: ["batch"], resources: ["jobs", "cronjobs"], verbs: WRITE },
    { apiGroups: ["autoscaling"], resources: ["horizontalpodautoscalers"], verbs: WRITE },
    { apiGroups: ["policy"], resources: ["poddisruptionbudgets"], verbs: WRITE },
    { apiGroups: ["coordination.k8s.io"], resources: ["leases"], verbs: WRITE },
    { apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"], verbs: READ },
    { apiGroups: ["events.k8s.io"], resources: ["events"], verbs: READ },
    { apiGroups: ["networking.k8s.io"], resources: ["networkpolicies"], verbs: READ },
];

/** The instance name of the agent of `tenant`, or of the whole cluster: `agent`, `agent-a`. */
export function agentInstance(tenant?: string): string {
    return tenant ? `agent-${tenant}` : "agent";
}

/** The agent's StatefulSet (and ServiceAccount) name: `prometheus-agent`, `prometheus-agent-a`. */
export function agentStatefulSetName(tenant?: string): string {
    return `prometheus-${agentInstance(tenant)}`;
}
