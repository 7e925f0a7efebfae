/**
 * An evaluator of the network policies a plan declares: Kubernetes NetworkPolicy semantics and the part of
 * CiliumNetworkPolicy the program uses, as Cilium enforces them. Pure data in, a verdict out; no cluster.
 *
 * Kubernetes (https://kubernetes.io/docs/concepts/services-networking/network-policies/):
 * - A pod is isolated for a direction when some NetworkPolicy in its namespace selects it and has that direction
 *   in `policyTypes` (absent: Ingress always, Egress when the policy has `egress`). An isolated pod's traffic in
 *   that direction is allowed when any rule of any policy selecting it allows it (policies are additive); a
 *   connection needs the source's egress and the destination's ingress.
 * - A peer with `podSelector` alone selects pods in the policy's namespace; `namespaceSelector` alone, every pod of
 *   the matching namespaces; both in ONE peer, the matching pods of the matching namespaces (two peers: either).
 *   `ipBlock` selects addresses by CIDR, minus `except`.
 * - A rule without `to`/`from` matches every peer; without `ports`, every port. A port is a number (with optional
 *   `endPort`) or a name, resolved against the destination pod's container ports; `protocol` defaults to TCP.
 * Cilium (https://docs.cilium.io/en/stable/security/policy/):
 * - `ipBlock` and `toCIDR`/`toCIDRSet` match addresses outside the cluster only: not pods, and by default not the
 *   nodes or the API server (`policy-cidr-match-mode` unset). Those are entities: `host`, `remote-node`,
 *   `kube-apiserver`; `cluster` is everything inside, `world` everything outside, `all` both.
 * - A CiliumNetworkPolicy selects pods of its namespace with `endpointSelector`; an endpoint with an `ingress` or
 *   `egress` section in any rule selecting it is isolated in that direction. Rules: `toEndpoints`/`fromEndpoints`
 *   (label selectors, in the policy's namespace unless they name `k8s:io.kubernetes.pod.namespace`),
 *   `toEntities`/`fromEntities`, `toCIDR`/`toCIDRSet`, `toPorts` (absent: every port).
 */

export type Labels = Record<string, string>;

export interface LabelSelector {
    readonly matchLabels?: Labels;
    readonly matchExpressions?: { key: string; operator: "In" | "NotIn" | "Exists" | "DoesNotExist"; values?: string[] }[];
}

export interface Pod {
    /** How tests and messages name it, e.g. `monitoring/prometheus-agent-a`. */
    readonly name: string;
    readonly namespace: string;
    readonly labels: Labels;
    /** Container ports, for named ports. */
    readonly ports?: { name?: string; containerPort: number; protocol?: string }[];
}

export type Entity = "kube-apiserver" | "host" | "remote-node" | "world";

/** A destination: a pod, a Cilium entity inside the cluster, or an address outside it. */
export type Endpoint = { readonly pod: Pod } | { readonly entity: Exclude<Entity, "world"> } | { readonly ip: string };

export interface NetworkPolicy {
    readonly kind: "NetworkPolicy";
    readonly namespace: string;
    readonly name: string;
    readonly spec: {
        podSelector: LabelSelector;
        policyTypes?: ("Ingress" | "Egress")[];
        ingress?: { from?: Peer[]; ports?: PolicyPort[] }[];
        egress?: { to?: Peer[]; ports?: PolicyPort[] }[];
    };
}
export interface Peer {
    podSelector?: LabelSelector;
    namespaceSelector?: LabelSelector;
    ipBlock?: { cidr: string; except?: string[] };
}
export interface PolicyPort {
    protocol?: string;
    port?: number | string;
    endPort?: number;
}

export interface CiliumNetworkPolicy {
    readonly kind: "CiliumNetworkPolicy";
    readonly namespace: string;
    readonly name: string;
    readonly spec: {
        endpointSelector: LabelSelector;
        ingress?: CiliumRule[];
        egress?: CiliumRule[];
    };
}
export interface CiliumRule {
    toEndpoints?: LabelSelector[];
    fromEndpoints?: LabelSelector[];
    toEntities?: string[];
    fromEntities?: string[];
    toCIDR?: string[];
    toCIDRSet?: { cidr: string; except?: string[] }[];
    toPorts?: { ports?: { port: string; protocol?: string }[] }[];
}

export type Policy = NetworkPolicy | CiliumNetworkPolicy;

export interface World {
    /** Namespace labels by name (`kubernetes.io/metadata.name` is added as Kubernetes does). */
    readonly namespaces: Record<string, Labels>;
    readonly policies: readonly Policy[];
}

const CILIUM_NAMESPACE_LABEL = "k8s:io.kubernetes.pod.namespace";

export function selects(sel: LabelSelector | undefined, labels: Labels): boolean {
    if (sel === undefined) return true;
    for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (labels[k] !== v) return false;
    for (const e of sel.matchExpressions ?? []) {
        const has = e.key in labels;
        if (e.operator === "Exists" && !has) return false;
        if (e.operator === "DoesNotExist" && has) return false;
        if (e.operator === "In" && !(has && (e.values ?? []).includes(labels[e.key]))) return false;
        if (e.operator === "NotIn" && has && (e.values ?? []).includes(labels[e.key])) return false;
    }
    return true;
}

function ipToInt(ip: string): number {
    const parts = ip.split(".").map(Number);
    if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) throw new Error(`not an IPv4 address: ${ip}`);
    return ((parts[0] << 24) | (parts[1] << 16) | (parts[2] << 8) | parts[3]) >>> 0;
}

export function inCidr(ip: string, cidr: string): boolean {
    const [base, bits] = cidr.split("/");
    const n = Number(bits ?? 32);
    const mask = n === 0 ? 0 : (~0 << (32 - n)) >>> 0;
    return ((ipToInt(ip) & mask) >>> 0) === ((ipToInt(base) & mask) >>> 0);
}

function namespaceLabels(world: World, ns: string): Labels {
    return { ...(world.namespaces[ns] ?? {}), "kubernetes.io/metadata.name": ns };
}

function resolvePort(p: PolicyPort, dst: Endpoint, port: number, protocol: string): boolean {
    if ((p.protocol ?? "TCP") !== protocol) return false;
    if (p.port === undefined) return true;
    if (typeof p.port === "number") return p.endPort === undefined ? p.port === port : port >= p.port && port <= p.endPort;
    if (/^\d+$/.test(p.port)) return Number(p.port) === port;
    // A named port matches the destination pod's container port of that name.
    if (!("pod" in dst)) return false;
    return (dst.pod.ports ?? []).some((cp) => cp.name === p.port && cp.containerPort === port && (cp.protocol ?? "TCP") === protocol);
}

function portsAllow(ports: PolicyPort[] | undefined, dst: Endpoint, port: number, protocol: string): boolean {
    return ports === undefined || ports.length === 0 || ports.some((p) => resolvePort(p, dst, port, protocol));
}

/** Whether a Kubernetes NetworkPolicy peer (of a policy in `policyNs`) matches `ep`, as Cilium enforces it. */
function peerMatches(world: World, peer: Peer, policyNs: string, ep: Endpoint): boolean {
    if (peer.ipBlock) {
        // Under Cilium an ipBlock matches addresses outside the cluster only.
        if (!("ip" in ep)) return false;
        return inCidr(ep.ip, peer.ipBlock.cidr) && !(peer.ipBlock.except ?? []).some((c) => inCidr(ep.ip, c));
    }
    if (!("pod" in ep)) return false; // pod and namespace selectors select pods only
    const pod = ep.pod;
    if (peer.namespaceSelector !== undefined) {
        if (!selects(peer.namespaceSelector, namespaceLabels(world, pod.namespace))) return false;
    } else if (pod.namespace !== policyNs) return false;
    return selects(peer.podSelector, pod.labels);
}

function isolated(p: NetworkPolicy, dir: "Ingress" | "Egress"): boolean {
    const types = p.spec.policyTypes ?? (p.spec.egress !== undefined ? ["Ingress", "Egress"] : ["Ingress"]);
    return types.includes(dir);
}

function ciliumEndpointMatches(sel: LabelSelector, policyNs: string, ep: Endpoint): boolean {
    if (!("pod" in ep)) return false;
    const ns = sel.matchLabels?.[CILIUM_NAMESPACE_LABEL];
    if ((ns ?? policyNs) !== ep.pod.namespace) return false;
    const rest: LabelSelector = { ...sel, matchLabels: Object.fromEntries(Object.entries(sel.matchLabels ?? {}).filter(([k]) => k !== CILIUM_NAMESPACE_LABEL)) };
    return selects(rest, ep.pod.labels);
}

function entityMatches(entities: string[] | undefined, ep: Endpoint): boolean {
    for (const e of entities ?? []) {
        if (e === "all") return true;
        if (e === "world" && "ip" in ep) return true;
        if (e === "cluster" && !("ip" in ep)) return true;
        if ("entity" in ep && e === ep.entity) return true;
    }
    return false;
}

function ciliumPortsAllow(rule: CiliumRule, port: number, protocol: string): boolean {
    if (!rule.toPorts || rule.toPorts.length === 0) return true;
    return rule.toPorts.some((tp) => (tp.ports ?? []).length === 0 || (tp.ports ?? []).some((p) => Number(p.port) === port && (p.protocol ?? "TCP") === protocol));
}

function ciliumPeerMatches(rule: CiliumRule, dir: "Ingress" | "Egress", policyNs: string, peer: Endpoint): boolean {
    const endpoints = dir === "Egress" ? rule.toEndpoints : rule.fromEndpoints;
    const entities = dir === "Egress" ? rule.toEntities : rule.fromEntities;
    const hasPeer = endpoints !== undefined || entities !== undefined || rule.toCIDR !== undefined || rule.toCIDRSet !== undefined;
    if (!hasPeer) return false; // a Cilium rule without a peer selects nothing
    if ((endpoints ?? []).some((s) => ciliumEndpointMatches(s, policyNs, peer))) return true;
    if (entityMatches(entities, peer)) return true;
    if (dir === "Egress" && "ip" in peer) {
        if ((rule.toCIDR ?? []).some((c) => inCidr(peer.ip, c))) return true;
        if ((rule.toCIDRSet ?? []).some((c) => inCidr(peer.ip, c.cidr) && !(c.except ?? []).some((x) => inCidr(peer.ip, x)))) return true;
    }
    return false;
}

/** The verdict on one direction of one pod's side: not isolated, or allowed by named policies, or denied. */
export interface SideVerdict {
    readonly isolated: boolean;
    readonly allowedBy: string[];
}

/** Whether `pod`'s policies let it send to (`Egress`) or receive from (`Ingress`) `peer` on `port`. */
export function side(world: World, pod: Pod, dir: "Ingress" | "Egress", peer: Endpoint, target: Endpoint, port: number, protocol = "TCP"): SideVerdict {
    let isIsolated = false;
    const allowedBy: string[] = [];
    for (const p of world.policies) {
        if (p.namespace !== pod.namespace) continue;
        if (p.kind === "NetworkPolicy") {
            if (!selects(p.spec.podSelector, pod.labels) || !isolated(p, dir)) continue;
            isIsolated = true;
            const rules = (dir === "Egress" ? p.spec.egress : p.spec.ingress) ?? [];
            for (const r of rules) {
                const peers = "to" in r ? r.to : (r as { from?: Peer[] }).from;
                const peerOk = peers === undefined || peers.length === 0 || peers.some((x) => peerMatches(world, x, p.namespace, peer));
                if (peerOk && portsAllow(r.ports, target, port, protocol)) allowedBy.push(`NetworkPolicy ${p.namespace}/${p.name}`);
            }
        } else {
            if (!selects(p.spec.endpointSelector, pod.labels)) continue;
            const rules = dir === "Egress" ? p.spec.egress : p.spec.ingress;
            if (rules === undefined) continue;
            isIsolated = true;
            for (const r of rules) {
                if (ciliumPeerMatches(r, dir, p.namespace, peer) && ciliumPortsAllow(r, port, protocol)) allowedBy.push(`CiliumNetworkPolicy ${p.namespace}/${p.name}`);
            }
        }
    }
    return { isolated: isIsolated, allowedBy: [...new Set(allowedBy)] };
}

export interface Verdict {
    readonly allowed: boolean;
    readonly egress: SideVerdict;
    /** Absent when the destination is not a pod (entities and outside addresses enforce nothing of ours). */
    readonly ingress?: SideVerdict;
}

/** Whether a connection from `src` to `dst` on `port` is allowed: the source's egress and the destination's ingress. */
export function connection(world: World, src: Pod, dst: Endpoint, port: number, protocol = "TCP"): Verdict {
    const egress = side(world, src, "Egress", dst, dst, port, protocol);
    const egressOk = !egress.isolated || egress.allowedBy.length > 0;
    if (!("pod" in dst)) return { allowed: egressOk, egress };
    const ingress = side(world, dst.pod, "Ingress", { pod: src }, dst, port, protocol);
    const ingressOk = !ingress.isolated || ingress.allowedBy.length > 0;
    return { allowed: egressOk && ingressOk, egress, ingress };
}
