/** Shared helpers: plans of the real stack files, and lookups into what a plan registered. */
import * as assert from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse } from "yaml";
import { PlannedResource, SecretValue, asStackReference, mapSecrets, runOffline } from "../../tools/offline";
import { Plan, isKubernetesObject, planStack, readStackFile } from "../../tools/plan";
import { StackConfig, parseFlatConfig, requiredSecrets } from "../../lib/config";
import { buildStack } from "../../stacks";
import type { StackSecrets } from "../../stacks";

export { STACKS, EDGE_STACKS } from "../../tools/stacks";
export { planStack };

/** The one resource of this type whose name ends with `suffix`; fails if none or several. */
export function one(plan: Plan, type: string, suffix: string): PlannedResource {
    const found = plan.resources.filter((r) => r.type === type && r.name.endsWith(suffix));
    assert.strictEqual(found.length, 1, `expected one ${type} named *${suffix} in ${plan.stack}, found ${found.map((r) => r.name).join(", ") || "none"}`);
    return found[0];
}

export function all(plan: Plan, type: string): PlannedResource[] {
    return plan.resources.filter((r) => r.type === type);
}

/** A Kubernetes object's manifest with secrets revealed (for assertions on structure). */
export function manifest(r: PlannedResource): any {
    return mapSecrets(r.inputs, true);
}

export function k8sObjects(plan: Plan): PlannedResource[] {
    return plan.resources.filter(isKubernetesObject);
}

/** First container of a workload. */
export function container(r: PlannedResource, name?: string): any {
    const cs = manifest(r).spec.template.spec.containers as any[];
    return name ? cs.find((c) => c.name === name) : cs[0];
}

/** Flag value `--name=value` in a container's args (undefined if absent). */
export function flag(args: string[], name: string): string | undefined {
    const hit = args.find((a) => a === `--${name}` || a.startsWith(`--${name}=`));
    return hit === undefined ? undefined : hit.includes("=") ? hit.slice(hit.indexOf("=") + 1) : "";
}

export function isSecret(v: unknown): boolean {
    return v instanceof SecretValue;
}

/**
 * Path of a Debian tool the tests run (promtool, amtool, memcached); fails with the install command when absent
 * (`npm test` installs them first: scripts/ensure-tools.sh).
 */
export function tool(name: string, debianPackages = "prometheus prometheus-alertmanager"): string {
    try {
        return execFileSync("sh", ["-c", `command -v ${name}`]).toString().trim();
    } catch {
        throw new Error(`${name} not found: install Debian's ${debianPackages} (apt-get install ${debianPackages}); npm test's pretest (scripts/ensure-tools.sh) and .ci/run do`);
    }
}

export function tmpDir(prefix: string): string {
    return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function yaml(text: string): any {
    return parse(text);
}

/** Stand-in values for every secret a central config needs (MinIO password, alert webhooks). */
export function centralSecrets(cfg: StackConfig): StackSecrets {
    return Object.fromEntries(requiredSecrets(cfg).map((k) => [k, k.startsWith("alertWebhook") ? `https://hooks.example.internal/${k}` : "x"]));
}

/** Whether `obj[key]` is a secret: the value itself, or (as the engine serialises it) the whole object holding it. */
export function isSecretAt(obj: any, key: string): boolean {
    return isSecret(obj) || (obj !== undefined && isSecret(obj[key]));
}

/** An edge stack planned with its edge config changed by `change`, against the real central plan's outputs. */
export async function planEdgeWith(stack: string, change: (edge: any) => void): Promise<Plan> {
    const file = readStackFile(stack);
    const raw = JSON.parse(file.flat["agent-receiver:edge"]);
    change(raw);
    file.flat["agent-receiver:edge"] = JSON.stringify(raw);
    const cfg = parseFlatConfig(stack, file.flat, (k) => file.secretKeys.includes(k));
    const refs = { [cfg.edge!.centralStack]: asStackReference((await planStack(cfg.edge!.centralStack.split("/").pop()!)).outputs) };
    return { stack, ...(await runOffline({ project: "agent-receiver", stack, stackReferences: refs }, () => buildStack(cfg, {}))) };
}

/** cluster-01 planned with its central config changed by `change`. */
export async function planCentralWith(change: (central: any) => void): Promise<Plan> {
    const file = readStackFile("cluster-01");
    const raw = JSON.parse(file.flat["agent-receiver:central"]);
    change(raw);
    file.flat["agent-receiver:central"] = JSON.stringify(raw);
    const cfg = parseFlatConfig("cluster-01", file.flat, (k) => file.secretKeys.includes(k));
    return { stack: "cluster-01", ...(await runOffline({ project: "agent-receiver", stack: "cluster-01" }, () => buildStack(cfg, centralSecrets(cfg)))) };
}
