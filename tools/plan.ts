/**
 * The offline plan: a stack's real `Pulumi.<stack>.yaml` through the real program under the mock runtime.
 * Used by `npm run plan -- <stack>` and by the stack tests.
 */
import * as fs from "fs";
import * as path from "path";
import { parse, stringify } from "yaml";
import { PROJECT, SECRET_KEYS, WEBHOOK_SECRET_KEY, parseFlatConfig } from "../lib/config";
import { parseQuantity } from "../lib/k8s";
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

/** Read `Pulumi.<stack>.yaml`; refuses committed secrets (`secure:` values are the CLI's encrypted form). */
export function readStackFile(stack: string, dir = ROOT): StackFile {
    const file = path.join(dir, `Pulumi.${stack}.yaml`);
    if (!fs.existsSync(file)) throw new Error(`no stack file ${file}`);
    const doc = (parse(fs.readFileSync(file, "utf8")) ?? {}) as { config?: Record<string, unknown> };
    const flat: Record<string, string> = {};
    const secretKeys: string[] = [];
    for (const [k, v] of Object.entries(doc.config ?? {})) {
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
}

const cache = new Map<string, Plan>();

/**
 * Plan a stack. An edge stack first plans the central stack its config names, and reads that plan's outputs
 * through the stack reference, so its remote-write endpoint and credentials are the real ones.
 */
export async function planStack(stack: string, opts: { refs?: Record<string, StackReferenceState>; dir?: string } = {}): Promise<Plan> {
    // Keyed by the folder of the stack files too: the same stack planned from another folder is another plan.
    const key = `${path.resolve(opts.dir ?? ROOT)}\0${stack}`;
    const cached = opts.refs === undefined ? cache.get(key) : undefined;
    if (cached) return cached;
    const file = readStackFile(stack, opts.dir);
    const cfg = parseFlatConfig(stack, file.flat, (k) => file.secretKeys.includes(k));
    let refs = opts.refs;
    if (refs === undefined && cfg.edge) {
        const centralName = cfg.edge.centralStack;
        const central = await planStack(centralName.split("/").pop() as string, { dir: opts.dir });
        refs = { [centralName]: asStackReference(central.outputs) };
    }
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const program = require(path.join(ROOT, "index")) as () => Promise<Record<string, unknown>>;
    const result = await runOffline(
        { project: PROJECT, stack, config: file.flat, secretKeys: file.secretKeys, stackReferences: refs ?? {} },
        program,
    );
    const plan = { stack, ...result };
    if (opts.refs === undefined) cache.set(key, plan);
    return plan;
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

export interface Totals {
    cpuRequests: number;
    cpuLimits: number;
    memoryRequests: number;
    memoryLimits: number;
}

/** Sum of requests/limits of the workloads the program declares, times replicas. Charts are listed apart. */
export function resourceTotals(plan: Plan): Totals {
    const t: Totals = { cpuRequests: 0, cpuLimits: 0, memoryRequests: 0, memoryLimits: 0 };
    for (const r of plan.resources.filter(isKubernetesObject)) {
        const m = r.inputs as { kind?: string; spec?: { replicas?: number; template?: { spec?: { containers?: unknown[] } } } };
        if (!["Deployment", "StatefulSet", "DaemonSet"].includes(m.kind ?? "")) continue;
        const replicas = m.spec?.replicas ?? 1;
        for (const c of (m.spec?.template?.spec?.containers ?? []) as { resources?: { requests?: Record<string, string>; limits?: Record<string, string> } }[]) {
            const q = (x?: string) => (x ? parseQuantity(x) : 0);
            t.cpuRequests += replicas * q(c.resources?.requests?.cpu);
            t.cpuLimits += replicas * q(c.resources?.limits?.cpu);
            t.memoryRequests += replicas * q(c.resources?.requests?.memory);
            t.memoryLimits += replicas * q(c.resources?.limits?.memory);
        }
    }
    return t;
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

export function formatTotals(t: Totals): string {
    const gi = (b: number) => `${(b / 1024 ** 3).toFixed(2)}Gi`;
    return `requests: cpu ${t.cpuRequests.toFixed(2)} cores, memory ${gi(t.memoryRequests)}; limits: cpu ${t.cpuLimits.toFixed(2)} cores, memory ${gi(t.memoryLimits)}`;
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
