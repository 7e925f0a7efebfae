/**
 * The rules every Kubernetes object of the platform must meet, as pure functions of the object's manifest (`kind`,
 * `metadata`, `spec`, …): each returns the list of its violations, empty when the object passes.
 *
 * One source for two checks: `test/stacks.test.ts` runs them on every object of every stack's offline plan, and the
 * policy pack in `policy/` runs them on every Kubernetes resource of a real `pulumi preview` / `pulumi up`, chart-rendered
 * objects included. No Pulumi runtime, no resource: plain data in, messages out.
 */

/** A Kubernetes object as a plain manifest: what a plan records and what a policy sees as a resource's props. */
export interface KubernetesObject {
    readonly apiVersion?: string;
    readonly kind?: string;
    readonly metadata?: { readonly name?: string; readonly namespace?: string; readonly labels?: Record<string, string>; readonly [k: string]: unknown };
    readonly [k: string]: any;
}

/** Kinds that carry a pod template (or are a pod). */
export const WORKLOAD_KINDS: readonly string[] = ["Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "Job", "CronJob"];

/** `Kind namespace/name` (or `Kind name`), for messages. */
export function objectLabel(obj: KubernetesObject): string {
    const ns = obj.metadata?.namespace;
    const name = obj.metadata?.name ?? "(unnamed)";
    return `${obj.kind ?? "(no kind)"} ${ns ? `${ns}/` : ""}${name}`;
}

/** The pod spec of a workload (a Pod's own spec, a CronJob's job template's), or undefined for other kinds. */
export function podSpecOf(obj: KubernetesObject): any | undefined {
    if (!WORKLOAD_KINDS.includes(obj.kind ?? "")) return undefined;
    if (obj.kind === "Pod") return obj.spec;
    if (obj.kind === "CronJob") return obj.spec?.jobTemplate?.spec?.template?.spec;
    return obj.spec?.template?.spec;
}

// ---------------------------------------------------------------------------------------------------------------
// Hardened containers

/**
 * What "hardened" means for one container, each item separately waivable (see the policy pack's exemption list):
 * - `runAsNonRoot`: `runAsNonRoot: true`, in the container or inherited from the pod (as Kubernetes applies it), and no
 *   `runAsUser: 0`;
 * - `seccompProfile`: the `RuntimeDefault` seccomp profile, in the container or inherited from the pod;
 * - `readOnlyRootFilesystem`: `readOnlyRootFilesystem: true`;
 * - `allowPrivilegeEscalation`: `allowPrivilegeEscalation: false`;
 * - `privileged`: not `privileged: true`;
 * - `capabilities`: `capabilities.drop` contains `ALL` and nothing is added;
 * - `resources`: CPU and memory requests and a memory limit.
 */
export const HARDENING_CHECKS = ["runAsNonRoot", "seccompProfile", "readOnlyRootFilesystem", "allowPrivilegeEscalation", "privileged", "capabilities", "resources"] as const;
export type HardeningCheck = (typeof HARDENING_CHECKS)[number];

/**
 * Every container of a workload (init containers included) against the hardening checks, less the `waived` ones.
 * Other kinds pass.
 */
export function hardenedContainerViolations(obj: KubernetesObject, waived: readonly HardeningCheck[] = []): string[] {
    const pod = podSpecOf(obj);
    if (!pod) return [];
    const out: string[] = [];
    const podSc = pod.securityContext ?? {};
    const on = (check: HardeningCheck) => !waived.includes(check);
    const containers = [...((pod.initContainers ?? []) as any[]), ...((pod.containers ?? []) as any[])];
    if (containers.length === 0) out.push(`${objectLabel(obj)}: no containers`);
    for (const c of containers) {
        const sc = c.securityContext ?? {};
        const where = `${objectLabel(obj)} container ${c.name}`;
        if (on("runAsNonRoot")) {
            const nonRoot = sc.runAsNonRoot ?? podSc.runAsNonRoot;
            const uid = sc.runAsUser ?? podSc.runAsUser;
            if (nonRoot !== true) out.push(`${where}: runAsNonRoot is not true (in the container or the pod)`);
            else if (uid === 0) out.push(`${where}: runAsUser is 0 (root)`);
        }
        if (on("seccompProfile")) {
            const type = (sc.seccompProfile ?? podSc.seccompProfile)?.type;
            if (type !== "RuntimeDefault") out.push(`${where}: seccomp profile is ${type ?? "unset"}, not RuntimeDefault (in the container or the pod)`);
        }
        if (on("readOnlyRootFilesystem") && sc.readOnlyRootFilesystem !== true) out.push(`${where}: readOnlyRootFilesystem is not true`);
        if (on("allowPrivilegeEscalation") && sc.allowPrivilegeEscalation !== false) out.push(`${where}: allowPrivilegeEscalation is not false`);
        if (on("privileged") && sc.privileged === true) out.push(`${where}: privileged`);
        if (on("capabilities")) {
            if (!(sc.capabilities?.drop ?? []).includes("ALL")) out.push(`${where}: capabilities.drop does not contain ALL`);
            if ((sc.capabilities?.add ?? []).length > 0) out.push(`${where}: adds capabilities ${sc.capabilities.add.join(", ")}`);
        }
        if (on("resources")) {
            const r = c.resources ?? {};
            if (!r.requests?.cpu || !r.requests?.memory) out.push(`${where}: no CPU and memory requests`);
            if (!r.limits?.memory) out.push(`${where}: no memory limit`);
        }
    }
    return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Egress

const WORLD_CIDRS = ["0.0.0.0/0", "::/0"];
const CILIUM_WORLD_ENTITIES = ["all", "world", "world-ipv4", "world-ipv6"];
/** Fields of a Cilium egress rule that select destinations (a rule with none of them selects every destination). */
const CILIUM_PEER_FIELDS = ["toEntities", "toEndpoints", "toCIDR", "toCIDRSet", "toFQDNs", "toServices", "toGroups", "toNodes"];

const nonEmpty = (v: unknown): boolean => Array.isArray(v) && v.length > 0;

/**
 * Egress that allows everything:
 * - NetworkPolicy: an egress rule with no peers and no ports (an empty `to: []` counts as no peers: Kubernetes reads
 *   it as every destination), or a rule to `0.0.0.0/0` / `::/0` (without `except`) on every port. A rule without peers
 *   that names ports is allowed (DNS, and the kubelet/API-server ports Cilium cannot match by address);
 * - CiliumNetworkPolicy / CiliumClusterwideNetworkPolicy: egress to the `all` or `world` entities or to `0.0.0.0/0`,
 *   or an egress rule without any peer (`toEntities`, `toEndpoints`, `toCIDR`, …), which Cilium reads as every
 *   destination.
 */
export function allowAllEgressViolations(obj: KubernetesObject): string[] {
    const out: string[] = [];
    if (obj.kind === "NetworkPolicy") {
        ((obj.spec?.egress ?? []) as any[]).forEach((rule, i) => {
            const where = `${objectLabel(obj)} egress rule ${i + 1}`;
            const peers = (rule?.to ?? []) as any[];
            const ports = (rule?.ports ?? []) as any[];
            if (peers.length === 0 && ports.length === 0) out.push(`${where}: allows all egress (no peers and no ports)`);
            else if (ports.length === 0 && peers.some((p) => WORLD_CIDRS.includes(p?.ipBlock?.cidr) && !nonEmpty(p?.ipBlock?.except))) {
                out.push(`${where}: allows every port to ${peers.find((p) => WORLD_CIDRS.includes(p?.ipBlock?.cidr)).ipBlock.cidr}`);
            }
        });
    }
    if (obj.kind === "CiliumNetworkPolicy" || obj.kind === "CiliumClusterwideNetworkPolicy") {
        const specs = [...(obj.spec ? [obj.spec] : []), ...((obj.specs ?? []) as any[])];
        specs.forEach((spec, s) => {
            ((spec?.egress ?? []) as any[]).forEach((rule, i) => {
                const where = `${objectLabel(obj)}${specs.length > 1 ? ` spec ${s + 1}` : ""} egress rule ${i + 1}`;
                const world = ((rule?.toEntities ?? []) as string[]).filter((e) => CILIUM_WORLD_ENTITIES.includes(e));
                if (world.length > 0) out.push(`${where}: egress to the ${world.join(", ")} entit${world.length > 1 ? "ies" : "y"}`);
                const cidrs = [...((rule?.toCIDR ?? []) as string[]), ...((rule?.toCIDRSet ?? []) as any[]).map((c) => (nonEmpty(c?.except) ? undefined : c?.cidr))];
                if (cidrs.some((c) => WORLD_CIDRS.includes(c as string))) out.push(`${where}: egress to ${cidrs.find((c) => WORLD_CIDRS.includes(c as string))}`);
                if (!CILIUM_PEER_FIELDS.some((f) => nonEmpty(rule?.[f]))) out.push(`${where}: egress rule without peers (every destination)`);
            });
        });
    }
    return out;
}

// ---------------------------------------------------------------------------------------------------------------
// RBAC

export const RBAC_FIELDS = ["verbs", "resources", "apiGroups"] as const;
export type RbacField = (typeof RBAC_FIELDS)[number];

/** Role/ClusterRole rules with `*` in `verbs`, `resources` or `apiGroups` (less the `waived` fields). Other kinds pass. */
export function wildcardRbacViolations(obj: KubernetesObject, waived: readonly RbacField[] = []): string[] {
    if (obj.kind !== "Role" && obj.kind !== "ClusterRole") return [];
    const out: string[] = [];
    ((obj.rules ?? []) as any[]).forEach((rule, i) => {
        for (const field of RBAC_FIELDS) {
            if (!waived.includes(field) && ((rule?.[field] ?? []) as string[]).includes("*")) out.push(`${objectLabel(obj)} rule ${i + 1}: "*" in ${field}`);
        }
    });
    return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Plaintext secrets

/**
 * Whether the value at a path of the object (from its root: `["stringData"]`, `["stringData", "password"]`) is a
 * Pulumi secret. Known to the offline plan; not to a policy, whose SDK hands it the values with secretness removed.
 */
export type SecretnessProbe = (path: readonly string[]) => boolean;

/** An environment variable whose name says it holds a credential. `…_FILE`, `…_PATH` and the like do not. */
export const CREDENTIAL_ENV_NAME = /(^|_)(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|ACCESS_KEY|SECRET_KEY|PRIVATE_KEY|CREDENTIALS?)$/i;
const PRIVATE_KEY_PEM = /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/;

/** Paths of the string values of `v` that contain a PEM private key. */
function privateKeyPaths(v: unknown, path: string[] = []): string[] {
    if (typeof v === "string") return PRIVATE_KEY_PEM.test(v) ? [path.join(".") || "(value)"] : [];
    if (Array.isArray(v)) return v.flatMap((x, i) => privateKeyPaths(x, [...path, String(i)]));
    if (v && typeof v === "object") return Object.entries(v).flatMap(([k, x]) => privateKeyPaths(x, [...path, k]));
    return [];
}

/**
 * Secret material in plaintext:
 * - always: a container environment variable named like a credential (`…PASSWORD`, `…TOKEN`, `…SECRET_KEY`, …) with a
 *   literal `value` instead of `valueFrom` (anyone who can read the pod spec reads it), and a PEM private key anywhere
 *   in the object except a Secret's `data`/`stringData` (a ConfigMap, an annotation, an argument);
 * - with `isSecret` (the offline plan, which knows secretness): a Secret whose `data` or `stringData` is not a Pulumi
 *   secret, as a whole or value by value (it would be stored in the state and shown in diffs in plaintext).
 */
export function plaintextSecretViolations(obj: KubernetesObject, isSecret?: SecretnessProbe): string[] {
    const out: string[] = [];
    const isSecretKind = obj.kind === "Secret";
    const pod = podSpecOf(obj);
    for (const c of pod ? [...((pod.initContainers ?? []) as any[]), ...((pod.containers ?? []) as any[])] : []) {
        for (const e of (c.env ?? []) as any[]) {
            if (CREDENTIAL_ENV_NAME.test(String(e?.name ?? "")) && typeof e?.value === "string" && e.value !== "") {
                out.push(`${objectLabel(obj)} container ${c.name}: env ${e.name} is a literal value (use valueFrom.secretKeyRef)`);
            }
        }
    }
    const rest = Object.fromEntries(Object.entries(obj).filter(([k]) => !(isSecretKind && (k === "data" || k === "stringData"))));
    for (const p of privateKeyPaths(rest)) out.push(`${objectLabel(obj)}: a private key in plaintext at ${p}`);
    if (isSecretKind && isSecret) {
        for (const field of ["data", "stringData"]) {
            const v = obj[field];
            if (v === undefined || v === null) continue;
            const secret = isSecret([field]) || (typeof v === "object" && Object.keys(v).every((k) => isSecret([field, k])));
            if (!secret) out.push(`${objectLabel(obj)}: ${field} is not a Pulumi secret (plaintext in the state and in diffs)`);
        }
    }
    return out;
}
