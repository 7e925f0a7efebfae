/**
 * The offline plan: a stack's real `Pulumi.<stack>.yaml` through the real program under the mock runtime.
 * Used by `npm run plan -- <stack>` and by the stack tests.
 */
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { parseDocument, stringify } from "yaml";
import { PROJECT, SECRET_KEYS, StackConfig, WEBHOOK_SECRET_KEY, parseFlatConfig } from "../lib/config";
import { parseQuantity } from "../lib/k8s";
import { ContainerResources, Uncounted, Workload, chartWorkloads } from "./chartWorkloads";
import { OfflineResult, PlannedResource, StackReferenceState, asStackReference, mapSecrets, runOffline } from "./offline";

export const ROOT = path.resolve(__dirname, "..");
/** What the plan puts where an operator-set secret would be: visible, never a real value. */
export const SECRET_PLACEHOLDER = "PLACEHOLDER-set-with-pulumi-config-set-secret";

export interface StackFile {
    readonly stack: string;
    /** Flat config as Pulumi passes it to the program (objects as JSON). */
    readonly flat: Record<string, string>;
    readonly secretKeys: string[];
}

/**
 * A problem with the command or the stack files, outside the config schema (an unknown stack, a file that is not
 * YAML): the planner prints its message alone, like `pulumi up` prints an `OperatorError`.
 */
export class PlanError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "PlanError";
    }
}

/** Stack names from the stack files, sorted: `Pulumi.cluster-01.yaml` → `cluster-01`. */
export function stackNames(dir = ROOT): string[] {
    return fs
        .readdirSync(dir)
        .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
        .filter((s): s is string => s !== undefined)
        .sort();
}

/** A file as the operator finds it: relative to the working directory when it is below it. */
export function displayPath(file: string): string {
    const rel = path.relative(process.cwd(), file);
    return rel && !rel.startsWith("..") && !path.isAbsolute(rel) ? rel : file;
}

/** The refusal for a stack without a stack file, listing the stacks that exist. */
export function unknownStack(stack: string, dir = ROOT): PlanError {
    const known = stackNames(dir);
    return new PlanError(
        `unknown stack "${stack}": there is no ${displayPath(path.join(dir, `Pulumi.${stack}.yaml`))}. ` +
            `Stacks (one per Pulumi.<stack>.yaml): ${known.join(", ") || "none"}`,
    );
}

/** Read `Pulumi.<stack>.yaml`; refuses committed secrets (`secure:` values are the CLI's encrypted form). */
export function readStackFile(stack: string, dir = ROOT): StackFile {
    const file = path.join(dir, `Pulumi.${stack}.yaml`);
    if (!fs.existsSync(file)) throw unknownStack(stack, dir);
    const parsed = parseDocument(fs.readFileSync(file, "utf8"));
    const error = parsed.errors[0];
    if (error) {
        // The parser's message: "<what> at line L, column C:\n\n<the line>\n<caret>". Lead with file:line:column.
        const [what, snippet = ""] = error.message.split(/ at line \d+, column \d+:\n/);
        const at = error.linePos?.[0];
        throw new PlanError(`${displayPath(file)}${at ? `:${at.line}:${at.col}` : ""}: ${what} (not valid YAML)\n${snippet.replace(/\n+$/, "")}`);
    }
    const doc = (parsed.toJS() ?? {}) as { config?: unknown };
    if (typeof doc !== "object" || Array.isArray(doc) || (doc.config !== undefined && (doc.config === null || typeof doc.config !== "object" || Array.isArray(doc.config)))) {
        throw new PlanError(`${displayPath(file)}: expected a map with the stack's settings under "config:" (as pulumi config set writes it)`);
    }
    const flat: Record<string, string> = {};
    const secretKeys: string[] = [];
    for (const [k, v] of Object.entries((doc.config ?? {}) as Record<string, unknown>)) {
        if (v && typeof v === "object" && "secure" in (v as object)) {
            secretKeys.push(k); // encrypted by the CLI; offline it stands as the placeholder below
            flat[k] = SECRET_PLACEHOLDER;
            continue;
        }
        flat[k] = typeof v === "string" ? v : JSON.stringify(v);
    }
    // Operator-set secrets are not in the file (nor should they be): stand in visible placeholders.
    for (const key of [...Object.keys(SECRET_KEYS), ...namedWebhookKeys(flat)]) {
        const full = `${PROJECT}:${key}`;
        if (!(full in flat)) {
            flat[full] = SECRET_PLACEHOLDER;
            secretKeys.push(full);
        }
    }
    return { stack, flat, secretKeys };
}

/** `alertWebhook*` secret keys the central config names (its receivers and heartbeat). */
function namedWebhookKeys(flat: Record<string, string>): string[] {
    const central = flat[`${PROJECT}:central`];
    if (!central) return [];
    type Heartbeat = { webhookUrlSecret?: string; selfMonitoringWebhookUrlSecret?: string };
    const alerting = (JSON.parse(central) as { monitoring?: { alerting?: { receivers?: { webhookUrlSecret?: string }[]; heartbeat?: Heartbeat } } }).monitoring?.alerting;
    const keys = [...(alerting?.receivers ?? []).map((r) => r.webhookUrlSecret), alerting?.heartbeat?.webhookUrlSecret, alerting?.heartbeat?.selfMonitoringWebhookUrlSecret];
    return keys.filter((k): k is string => typeof k === "string" && WEBHOOK_SECRET_KEY.test(k));
}

export interface Plan extends OfflineResult {
    readonly stack: string;
    /** The stack's validated configuration (secrets as placeholders); absent on plans the tests assemble by hand. */
    readonly config?: StackConfig;
    /** For an edge: the central stack planned first, whose outputs the stack reference read. */
    readonly central?: { readonly stack: string; readonly reference: string };
}

const cache = new Map<string, Plan>();

export interface PlanOptions {
    /** Stack references to use instead of planning the central stack (tests). */
    readonly refs?: Record<string, StackReferenceState>;
    /** Folder of the stack files (default: the project root). */
    readonly dir?: string;
    /** Told what the planner is doing, a line at a time (the CLI writes it to stderr). */
    readonly progress?: (line: string) => void;
}

/**
 * Plan a stack. An edge stack first plans the central stack its config names, and reads that plan's outputs
 * through the stack reference, so its remote-write endpoint and credentials are the real ones.
 */
export async function planStack(stack: string, opts: PlanOptions = {}): Promise<Plan> {
    // Keyed by the folder of the stack files too: the same stack planned from another folder is another plan.
    const key = `${path.resolve(opts.dir ?? ROOT)}\0${stack}`;
    const cached = opts.refs === undefined ? cache.get(key) : undefined;
    if (cached) {
        opts.progress?.(`${stack}: planned earlier in this run`);
        return cached;
    }
    const started = Date.now();
    const file = readStackFile(stack, opts.dir);
    const cfg = parseFlatConfig(stack, file.flat, (k) => file.secretKeys.includes(k));
    let refs = opts.refs;
    let central: Plan["central"];
    if (refs === undefined && cfg.edge) {
        const reference = cfg.edge.centralStack;
        const centralStack = reference.split("/").pop() as string;
        const why = `${stack} reads its outputs through the stack reference ${reference} (agent-receiver:edge.centralStack)`;
        opts.progress?.(`${stack}: planning ${centralStack} first: ${why}`);
        let centralPlan: Plan;
        try {
            centralPlan = await planStack(centralStack, { dir: opts.dir, progress: opts.progress });
        } catch (e) {
            if (!(e instanceof PlanError || isOperatorError(e))) throw e;
            const files = [stack, centralStack].map((s) => displayPath(path.join(opts.dir ?? ROOT, `Pulumi.${s}.yaml`)));
            throw new PlanError(
                `${e.message}\n(while planning ${stack}: ${stack} reads ${centralStack}'s outputs through the stack reference ${reference} ` +
                    `(agent-receiver:edge.centralStack in ${files[0]}), so ${centralStack}'s stack file ${files[1]} is read and planned first)`,
            );
        }
        refs = { [reference]: asStackReference(centralPlan.outputs) };
        central = { stack: centralStack, reference };
    }
    opts.progress?.(`${stack}: running the program under the mock runtime`);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const program = require(path.join(ROOT, "index")) as () => Promise<Record<string, unknown>>;
    const result = await runOffline(
        { project: PROJECT, stack, config: file.flat, secretKeys: file.secretKeys, stackReferences: refs ?? {} },
        program,
    );
    const plan: Plan = { stack, config: cfg, ...(central ? { central } : {}), ...result };
    opts.progress?.(`${stack}: ${plan.resources.length} resources in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    if (opts.refs === undefined) cache.set(key, plan);
    return plan;
}

/** An error the program raises for the operator (`OperatorError`, `ConfigError`: `pulumi.RunError`s, printed as their message). */
export function isOperatorError(e: unknown): e is Error {
    return e instanceof Error && pulumi.RunError.isInstance(e);
}

// ---------------------------------------------------------------------------------------------------------
// Reading a plan
// ---------------------------------------------------------------------------------------------------------

export function isKubernetesObject(r: PlannedResource): boolean {
    return r.custom && r.type.startsWith("kubernetes:") && !r.type.startsWith("kubernetes:helm.sh") && r.type !== "pulumi:providers:kubernetes";
}

export function isHelmChart(r: PlannedResource): boolean {
    return r.type.startsWith("kubernetes:helm.sh/");
}

/** Sums over containers (each container of each copy of a pod). Quantities: cores and bytes. */
export interface Sums {
    cpuRequests: number;
    memoryRequests: number;
    /** Sums of the limits that are set; `withoutCpuLimit`/`withoutMemoryLimit` containers have none (unbounded). */
    cpuLimits: number;
    memoryLimits: number;
    containers: number;
    withoutCpuLimit: number;
    withoutMemoryLimit: number;
}

export interface Totals extends Sums {
    /** Every workload counted: the program's and each chart's, with its containers and copies. */
    readonly workloads: Workload[];
    /** Workloads whose pods are not in the sums, each with the reason. */
    readonly uncounted: Uncounted[];
    /** Nodes each DaemonSet was counted on (in the sums above); undefined when the config lists none. */
    readonly nodes?: number;
    /** DaemonSets per node, when `nodes` is undefined (zeros otherwise): multiply by the cluster's nodes. */
    readonly perNode: Sums;
}

const noSums = (): Sums => ({ cpuRequests: 0, memoryRequests: 0, cpuLimits: 0, memoryLimits: 0, containers: 0, withoutCpuLimit: 0, withoutMemoryLimit: 0 });

const quantity = (q?: string) => (q ? parseQuantity(q) : 0);

function addContainers(sums: Sums, containers: readonly ContainerResources[], copies: number): void {
    for (const c of containers) {
        sums.cpuRequests += copies * quantity(c.requests.cpu);
        sums.memoryRequests += copies * quantity(c.requests.memory);
        sums.cpuLimits += copies * quantity(c.limits.cpu);
        sums.memoryLimits += copies * quantity(c.limits.memory);
        sums.containers += copies;
        if (!c.limits.cpu) sums.withoutCpuLimit += copies;
        if (!c.limits.memory) sums.withoutMemoryLimit += copies;
    }
}

/** The nodes a stack's config lists (cluster-02's tenant nodes); other stacks do not list their nodes. */
export function listedNodes(cfg: StackConfig): string[] {
    return (cfg.edge?.tenants ?? []).flatMap((t) => t.nodes);
}

type PodSpecLike = { containers?: unknown[]; initContainers?: { restartPolicy?: string }[] };

/** The program's own Deployments, StatefulSets and DaemonSets; its Jobs are listed as not counted. */
function programWorkloads(plan: Plan): { workloads: Workload[]; uncounted: Uncounted[] } {
    const workloads: Workload[] = [];
    const uncounted: Uncounted[] = [];
    for (const r of plan.resources.filter(isKubernetesObject)) {
        const m = mapSecrets(r.inputs, true) as { kind?: string; metadata?: { name?: string; namespace?: string }; spec?: { replicas?: number; template?: { spec?: PodSpecLike } } };
        const name = m.metadata?.name ?? r.name;
        const namespace = m.metadata?.namespace ?? "";
        if (m.kind === "Job" || m.kind === "CronJob") {
            uncounted.push({ source: "program", name: `${m.kind} ${namespace}/${name}`, why: "runs to completion, not a standing pod" });
            continue;
        }
        if (m.kind !== "Deployment" && m.kind !== "StatefulSet" && m.kind !== "DaemonSet") continue;
        const pod = m.spec?.template?.spec ?? {};
        // Native sidecars (init containers with restartPolicy Always) run for the pod's life; other init containers do not.
        const running = [...(pod.containers ?? []), ...(pod.initContainers ?? []).filter((c) => c.restartPolicy === "Always")] as { name?: string; resources?: any }[];
        const containers = running.map((c) => {
            const limits = { cpu: c.resources?.limits?.cpu, memory: c.resources?.limits?.memory };
            return { name: String(c.name), limits, requests: { cpu: c.resources?.requests?.cpu ?? limits.cpu, memory: c.resources?.requests?.memory ?? limits.memory } };
        });
        const replicas = m.kind === "DaemonSet" ? undefined : (m.spec?.replicas ?? 1);
        workloads.push({ source: "program", kind: m.kind, namespace, name, ...(replicas === undefined ? {} : { replicas }), containers });
    }
    return { workloads, uncounted };
}

/**
 * Requests and limits of every workload the stack runs: the program's Deployments and StatefulSets (replicas ×
 * per-pod), each Helm chart's workloads from its pinned defaults merged with the program's values
 * (tools/chartWorkloads.ts), and DaemonSets × nodes: the nodes `opts.nodes` says, else the nodes the config lists
 * (cluster-02's tenant nodes), else per node apart. What is not counted is listed by name with the reason.
 * The one place that counts workloads: the plan's output and the bench's budget both read it.
 */
export function resourceTotals(plan: Plan, opts: { nodes?: number } = {}): Totals {
    const own = programWorkloads(plan);
    const workloads = [...own.workloads];
    const uncounted = [...own.uncounted];
    for (const r of plan.resources.filter(isHelmChart)) {
        const i = mapSecrets(r.inputs, true) as { chart: string; version: string; name?: string; namespace?: string; values?: Record<string, unknown> };
        const pods = chartWorkloads({ chart: i.chart, version: i.version, release: i.name ?? r.name, namespace: i.namespace ?? "default", values: i.values ?? {} });
        workloads.push(...pods.workloads);
        uncounted.push(...pods.uncounted);
    }
    const listed = plan.config ? listedNodes(plan.config).length : 0;
    const nodes = opts.nodes ?? (listed > 0 ? listed : undefined);
    const sums = noSums();
    const perNode = noSums();
    for (const w of workloads) {
        if (w.replicas !== undefined) addContainers(sums, w.containers, w.replicas);
        else if (nodes !== undefined) addContainers(sums, w.containers, nodes);
        else addContainers(perNode, w.containers, 1);
    }
    return { ...sums, workloads, uncounted, ...(nodes === undefined ? {} : { nodes }), perNode };
}

/** Every container image the program's own workloads and Jobs name (charts' images are the charts' own). */
export function declaredImages(plan: Plan): string[] {
    const images = new Set<string>();
    for (const r of plan.resources.filter(isKubernetesObject)) {
        const m = r.inputs as { spec?: { template?: { spec?: PodLike } } };
        const pod = m.spec?.template?.spec;
        for (const c of [...(pod?.initContainers ?? []), ...(pod?.containers ?? [])]) if (typeof c.image === "string") images.add(c.image);
    }
    return [...images].sort();
}
type PodLike = { containers?: { image?: unknown }[]; initContainers?: { image?: unknown }[] };

/** Resource tree like a preview: type, name, indented under the parent. */
export function resourceTree(plan: Plan): string {
    const children = new Map<string, PlannedResource[]>();
    for (const r of plan.resources) {
        const list = children.get(r.parent) ?? [];
        list.push(r);
        children.set(r.parent, list);
    }
    const lines: string[] = [];
    const walk = (parent: string, depth: number) => {
        const list = (children.get(parent) ?? []).slice().sort((a, b) => a.urn.localeCompare(b.urn));
        for (const r of list) {
            const flags = [r.protect ? "protect" : "", r.retainOnDelete ? "retainOnDelete" : ""].filter(Boolean).join(",");
            lines.push(`${"  ".repeat(depth)}+ ${r.type}  ${r.name}${flags ? `  [${flags}]` : ""}`);
            walk(r.urn, depth + 1);
        }
    };
    walk("", 0);
    return lines.join("\n");
}

/** Write `out/<stack>/`: tree, every Kubernetes object as YAML, every chart's values, outputs. Secrets masked. */
export function writePlan(plan: Plan, outDir: string): string[] {
    fs.rmSync(outDir, { recursive: true, force: true });
    fs.mkdirSync(path.join(outDir, "manifests"), { recursive: true });
    fs.mkdirSync(path.join(outDir, "charts"), { recursive: true });
    const written: string[] = [];
    const write = (rel: string, text: string) => {
        fs.writeFileSync(path.join(outDir, rel), text);
        written.push(rel);
    };
    write("resources.txt", resourceTree(plan) + "\n");
    for (const r of plan.resources) {
        if (isKubernetesObject(r)) {
            const m = mapSecrets(r.inputs, false) as { kind?: string; metadata?: { name?: string; namespace?: string } };
            const ns = m.metadata?.namespace ?? "_cluster";
            write(`manifests/${ns}--${m.kind}--${m.metadata?.name ?? r.name}.yaml`, stringify(m, { lineWidth: 0 }));
        } else if (isHelmChart(r)) {
            write(`charts/${r.name}.yaml`, stringify(mapSecrets(r.inputs, false), { lineWidth: 0 }));
        }
    }
    write("outputs.json", JSON.stringify(mapSecrets(plan.outputs, false), null, 2) + "\n");
    return written;
}

const GiB = 1024 ** 3;
const MiB = 1024 ** 2;
/** Cores, without trailing zeros: 0.5, 1.25, 12. */
function cores(n: number): string {
    return String(Number(n.toFixed(3)));
}
function bytes(n: number): string {
    return n >= GiB ? `${(n / GiB).toFixed(2)}Gi` : `${Math.round(n / MiB)}Mi`;
}

/** A sum of limits in words: "no CPU limit" when no container sets one (never "0 cores"), else the sum and who has none. */
function limitText(what: "cpu" | "memory", total: string, without: number, containers: number): string {
    const none = `no ${what === "cpu" ? "CPU" : "memory"} limit`;
    if (containers === 0 || without === containers) return none;
    if (without === 0) return `${what} ${total}`;
    return `${what} ${total} on ${containers - without} of ${containers} containers, ${none} on the other ${without}`;
}

function sumsText(s: Sums): string {
    return (
        `requests: cpu ${cores(s.cpuRequests)} cores, memory ${bytes(s.memoryRequests)}; ` +
        `limits: ${limitText("cpu", `${cores(s.cpuLimits)} cores`, s.withoutCpuLimit, s.containers)}, ` +
        `${limitText("memory", bytes(s.memoryLimits), s.withoutMemoryLimit, s.containers)}`
    );
}

/** The totals in words; DaemonSets per node apart when the node count is not known. */
export function formatTotals(t: Totals): string {
    const lines = [`Total ${sumsText(t)}`];
    const daemonSets = t.workloads.filter((w) => w.replicas === undefined).length;
    if (t.nodes !== undefined && daemonSets > 0) {
        lines.push(`  (DaemonSets counted on ${t.nodes} nodes: the nodes the stack config lists; each node it does not list, a control-plane node say, runs one more copy of each)`);
    } else if (t.perNode.containers > 0) {
        lines.push(`  + per node, × nodes (${daemonSets} DaemonSets; this stack's config does not list its nodes): ${sumsText(t.perNode)}`);
    }
    return lines.join("\n");
}

/** One line per workload: copies, kind, namespace/name, per-pod requests and limits, where it comes from. */
export function workloadTable(t: Totals): string {
    const perPod = (w: Workload) => {
        const s = noSums();
        addContainers(s, w.containers, 1);
        const limit = (sum: string, without: number) => (without > 0 ? "no limit" : sum);
        return [
            s.cpuRequests > 0 ? cores(s.cpuRequests) : "none",
            s.memoryRequests > 0 ? bytes(s.memoryRequests) : "none",
            limit(cores(s.cpuLimits), s.withoutCpuLimit),
            limit(bytes(s.memoryLimits), s.withoutMemoryLimit),
        ];
    };
    const rows = [
        ["copies", "kind", "workload", "cpu req", "mem req", "cpu limit", "mem limit", "containers", "from"],
        ...t.workloads.map((w) => [
            w.replicas !== undefined ? String(w.replicas) : t.nodes !== undefined ? `${t.nodes} nodes` : "per node",
            w.kind,
            w.namespace ? `${w.namespace}/${w.name}` : w.name,
            ...perPod(w),
            String(w.containers.length),
            w.source,
        ]),
    ];
    const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
    const lines = rows.map((r) => "  " + r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]))).join("  ").trimEnd());
    const notes = t.uncounted.map((u) => `  not counted: ${u.name} (${u.source}): ${u.why}`);
    return [...lines, ...notes].join("\n");
}

/** What `pulumi preview` prints at the end: resources per type, and the total to create. */
export function resourceSummary(plan: Plan): string {
    const byType = new Map<string, number>();
    for (const r of plan.resources) byType.set(r.type, (byType.get(r.type) ?? 0) + 1);
    const types = [...byType].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
    const width = String(types[0]?.[1] ?? 0).length;
    return [
        "Resources:",
        `    + ${plan.resources.length} to create`,
        ...types.map(([type, n]) => `      ${String(n).padStart(width)} ${type}`),
    ].join("\n");
}

/**
 * The committed expectation of a stack's plan (`plans/<stack>.yaml`): every resource with its inputs (secrets
 * masked) and the outputs, in URN order. CI compares it with the plan of the PR, so a change to what would be
 * deployed shows as a diff of this file in review. `npm run plan:golden` rewrites it.
 */
export function goldenPlan(plan: Plan): string {
    const resources = plan.resources
        .slice()
        .sort((a, b) => a.urn.localeCompare(b.urn))
        .map((r) => ({
            // The URN (type chain of the parents, type, name) and the parent: a re-parenting or rename shows here as
            // the delete and re-create it would be on a deployed stack.
            urn: r.urn,
            parent: r.parent,
            type: r.type,
            name: r.name,
            ...(r.protect ? { protect: true } : {}),
            ...(r.retainOnDelete ? { retainOnDelete: true } : {}),
            ...(r.ignoreChanges.length > 0 ? { ignoreChanges: r.ignoreChanges } : {}),
            inputs: mapSecrets(r.inputs, false),
        }));
    return stringify({ stack: plan.stack, resources, outputs: mapSecrets(plan.outputs, false) }, { lineWidth: 0, sortMapEntries: true });
}

export const GOLDEN_DIR = path.join(ROOT, "plans");
