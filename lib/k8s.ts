/** Small pure helpers shared by the components: labels, security contexts, resources. */
import type * as k8s from "@pulumi/kubernetes";
import type { Resources } from "./config";

type Container = k8s.types.input.core.v1.Container;
type PodSecurityContext = k8s.types.input.core.v1.PodSecurityContext;
type SecurityContext = k8s.types.input.core.v1.SecurityContext;

/**
 * Recommended labels. `selectorLabels` leaves out `version`, so an upgrade never touches an immutable selector.
 */
export function selectorLabels(name: string, instance: string, component: string): Record<string, string> {
    return {
        "app.kubernetes.io/name": name,
        "app.kubernetes.io/instance": instance,
        "app.kubernetes.io/component": component,
    };
}

export function commonLabels(name: string, instance: string, component: string, version: string): Record<string, string> {
    return {
        ...selectorLabels(name, instance, component),
        "app.kubernetes.io/version": version,
        "app.kubernetes.io/part-of": "agent-receiver",
        "app.kubernetes.io/managed-by": "pulumi",
    };
}

/** Non-root pod with the RuntimeDefault seccomp profile (Pod Security `restricted`). */
export function restrictedPodSecurityContext(uid = 65534): PodSecurityContext {
    return {
        runAsNonRoot: true,
        runAsUser: uid,
        runAsGroup: uid,
        fsGroup: uid,
        fsGroupChangePolicy: "OnRootMismatch",
        seccompProfile: { type: "RuntimeDefault" },
    };
}

/** Container hardening every container the program declares carries (Pod Security `restricted` and more). */
export function restrictedContainerSecurityContext(): SecurityContext {
    return {
        runAsNonRoot: true,
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ["ALL"] },
        seccompProfile: { type: "RuntimeDefault" },
    };
}

export function resourceRequirements(r: Resources): k8s.types.input.core.v1.ResourceRequirements {
    const limits: Record<string, string> = { memory: r.limits.memory };
    if (r.limits.cpu !== undefined) limits.cpu = r.limits.cpu;
    return { requests: { cpu: r.requests.cpu, memory: r.requests.memory }, limits };
}

/** A hardened container: the caller's fields plus the restricted security context and log-on-error messages. */
export function hardenedContainer(c: Container): Container {
    return {
        imagePullPolicy: "IfNotPresent",
        terminationMessagePolicy: "FallbackToLogsOnError",
        ...c,
        securityContext: restrictedContainerSecurityContext(),
    };
}

/** Env vars with the pod's own name and namespace, for flags built from them. */
export const podIdentityEnv = [
    { name: "POD_NAME", valueFrom: { fieldRef: { fieldPath: "metadata.name" } } },
    { name: "POD_NAMESPACE", valueFrom: { fieldRef: { fieldPath: "metadata.namespace" } } },
];

/** Spread pods of one workload over nodes: preferred anti-affinity on the hostname. */
export function spreadOverNodes(selector: Record<string, string>): k8s.types.input.core.v1.Affinity {
    return {
        podAntiAffinity: {
            preferredDuringSchedulingIgnoredDuringExecution: [
                { weight: 100, podAffinityTerm: { topologyKey: "kubernetes.io/hostname", labelSelector: { matchLabels: selector } } },
            ],
        },
    };
}

/** Hard variant for replicas whose loss must not be correlated (Receive: two on one node break the quorum). */
export function requireDistinctNodes(selector: Record<string, string>): k8s.types.input.core.v1.Affinity {
    return {
        podAntiAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: [
                { topologyKey: "kubernetes.io/hostname", labelSelector: { matchLabels: selector } },
            ],
        },
    };
}

/** The well-known node label of a failure zone (a room, a rack, a power feed: whatever the site labels nodes with). */
export const ZONE_LABEL = "topology.kubernetes.io/zone";

/**
 * Preferred spread over zones: the scheduler puts the next pod in the zone with the fewest, when it can. Preferred, not
 * required: with fewer zones than replicas, or a zone down, pods still schedule. Nodes without the label (the seed's
 * clusters, until the site labels them) make it a no-op: every node scores the same.
 */
export function spreadOverZones(selector: Record<string, string>): k8s.types.input.core.v1.TopologySpreadConstraint[] {
    return [{ maxSkew: 1, topologyKey: ZONE_LABEL, whenUnsatisfiable: "ScheduleAnyway", labelSelector: { matchLabels: selector } }];
}

/** Sum of quantities in CPU cores or bytes, for the plan's resource totals. */
export function parseQuantity(q: string): number {
    const m = /^(\d+(?:\.\d+)?)(m|Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(q);
    if (!m) throw new Error(`not a quantity: ${q}`);
    const factor: Record<string, number> = {
        "": 1, m: 0.001, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4, k: 1e3, M: 1e6, G: 1e9, T: 1e12,
    };
    return Number(m[1]) * factor[m[2] ?? ""];
}

/** TCP ports the API server answers on: 443 through the `kubernetes` Service, 6443 on its backends. */
export const API_SERVER_PORTS = [443, 6443] as const;

/**
 * Egress rules without the ones whose `to` is an empty list: Kubernetes reads an empty `to` as "every destination",
 * so a rule built from a list that turned out empty must be dropped, not written.
 */
export function nonEmptyTo<R extends { to?: unknown[] }>(rules: R[]): R[] {
    return rules.filter((r) => r.to === undefined || r.to.length > 0);
}
