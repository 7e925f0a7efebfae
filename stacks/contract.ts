/**
 * The contract between the central stack and the edges: the outputs cluster-01 exports, the writer ids an edge writes
 * as, and reading the central stack through a stack reference, checked before any edge resource exists.
 */
import * as pulumi from "@pulumi/pulumi";
import type { WriterCredential } from "../components/remoteWritePki";
import type { LogCredential } from "../components/logStore";
import { EdgeConfig, StackConfig, durationSeconds, writerId } from "../lib/config";
import { OperatorError } from "../lib/errors";

/** Names of the stack outputs the edges read through the stack reference: the contract between stacks. */
export const CENTRAL_OUTPUTS = {
    remoteWriteUrl: "receiveRemoteWriteUrl",
    caCertPem: "receiveCaCertPem",
    writers: "writers",
    writerCredentials: "writerCredentials",
    logsEndpoint: "logsEndpoint",
    logsCaCertPem: "logsCaCertPem",
    logsCredentials: "logsCredentials",
    /** The LoadBalancer addresses an edge may reach (its egress policies name exactly these). */
    receiveLoadBalancerIP: "receiveLoadBalancerIP",
    logsLoadBalancerIP: "logsLoadBalancerIP",
    /** `central.receive.outOfOrderWindow`: how old a sample Receive still accepts, checked against each edge's `sampleAgeLimit`. */
    outOfOrderWindow: "receiveOutOfOrderWindow",
} as const;

/**
 * The secret output with the client credential of each writer outside the platform's stacks
 * (`central.externalWriters`): writer id → `{certPem, keyPem, notAfter}`. Exported only when there is one. Not part
 * of what the edges read (not in CENTRAL_OUTPUTS): the operator copies it to the external Prometheus
 * (`pulumi stack output --show-secrets`), and no edge stack's state holds it.
 */
export const EXTERNAL_WRITER_CREDENTIALS_OUTPUT = "externalWriterCredentials";

/** Writer ids an edge stack writes as: the cluster, or `<cluster>-<tenant>` per tenant. */
export function edgeWriterIds(cfg: StackConfig): string[] {
    const tenants = cfg.edge?.tenants ?? [];
    return tenants.length === 0 ? [writerId(cfg.clusterName)] : tenants.map((t) => writerId(cfg.clusterName, t.name));
}

/**
 * What to tell the operator when some of this edge's writer ids are not on the central stack: a cluster that is
 * missing is added as a writer; a tenant of a cluster that is listed is added to that writer's `tenants`.
 */
export function unregisteredWriterAdvice(cfg: StackConfig, missing: string[], known: string[], centralStack: string): string {
    const cluster = cfg.clusterName;
    const tenants = (cfg.edge?.tenants ?? []).map((t) => t.name);
    const clusterListed = known.includes(cluster) || known.some((w) => tenants.some((t) => w === `${cluster}-${t}`));
    const file = `Pulumi.${centralStack}.yaml`;
    const fix =
        tenants.length > 0 && clusterListed
            ? `add tenant(s) ${tenants.filter((t) => missing.includes(`${cluster}-${t}`)).join(", ")} to the tenants of writer ${cluster} in agent-receiver:central.writers (${file})`
            : tenants.length > 0
              ? `add { cluster: ${cluster}, tenants: [${tenants.join(", ")}] } to agent-receiver:central.writers (${file})`
              : `add { cluster: ${cluster} } to agent-receiver:central.writers (${file})`;
    return (
        `writer(s) ${missing.join(", ")} not registered on the central stack (known: ${known.join(", ") || "none"}). ` +
        `To fix: ${fix}, then run pulumi up --stack ${centralStack} before this stack.`
    );
}

/**
 * Receive accepts a sample older than its head only within `central.receive.outOfOrderWindow`; an edge agent retries
 * a sample until it is `sampleAgeLimit` old. A window shorter than the limit makes Receive refuse the oldest part of
 * an outage's backlog, the samples the limit promises to deliver. The two keys live on two stacks, so the edge checks
 * them against the window the central stack exports.
 */
export function outOfOrderWindowProblem(cfg: StackConfig, e: EdgeConfig, window: string): string | undefined {
    const limit = e.agent.remoteWrite.sampleAgeLimit;
    if (durationSeconds(window) >= durationSeconds(limit)) return undefined;
    const centralStackName = e.centralStack.split("/").pop();
    return (
        `stack "${cfg.clusterName}": agent-receiver:edge.agent.remoteWrite.sampleAgeLimit (${limit}) is longer than ` +
        `agent-receiver:central.receive.outOfOrderWindow (${window}) of central stack "${e.centralStack}": Receive would refuse the oldest samples ` +
        `of an outage's backlog. Raise central.receive.outOfOrderWindow to at least ${limit} in Pulumi.${centralStackName}.yaml and run ` +
        `pulumi up --stack ${centralStackName} first, or lower sampleAgeLimit on stack "${cfg.clusterName}".`
    );
}

/**
 * Read the central stack's outputs and check them before any edge resource exists: a missing output means the
 * central stack was not deployed; a missing writer means the central config does not list this edge.
 */
export async function readCentral(cfg: StackConfig, e: EdgeConfig) {
    const ref = new pulumi.StackReference(`${cfg.clusterName}-central`, { name: e.centralStack });
    const missingOutputs: string[] = [];
    const details = async (name: string) => {
        const d = await ref.getOutputDetails(name);
        const value = d.value ?? d.secretValue;
        if (value === undefined) missingOutputs.push(name);
        return { value, secret: d.secretValue !== undefined };
    };
    const url = await details(CENTRAL_OUTPUTS.remoteWriteUrl);
    const ca = await details(CENTRAL_OUTPUTS.caCertPem);
    const writers = await details(CENTRAL_OUTPUTS.writers);
    const creds = await details(CENTRAL_OUTPUTS.writerCredentials);
    const logsEndpoint = await details(CENTRAL_OUTPUTS.logsEndpoint);
    const logsCa = await details(CENTRAL_OUTPUTS.logsCaCertPem);
    const logsCreds = await details(CENTRAL_OUTPUTS.logsCredentials);
    const receiveIp = await details(CENTRAL_OUTPUTS.receiveLoadBalancerIP);
    const logsIp = await details(CENTRAL_OUTPUTS.logsLoadBalancerIP);
    const outOfOrderWindow = await details(CENTRAL_OUTPUTS.outOfOrderWindow);
    const centralStackName = e.centralStack.split("/").pop();
    const where = `stack "${cfg.clusterName}": central stack "${e.centralStack}" (agent-receiver:edge.centralStack)`;
    if (missingOutputs.length === Object.keys(CENTRAL_OUTPUTS).length) {
        throw new OperatorError(`${where} has none of the outputs an edge reads: it is not deployed yet. Deploy it first: pulumi up --stack ${centralStackName}`);
    }
    if (missingOutputs.length > 0) {
        throw new OperatorError(
            `${where} lacks the output(s) ${missingOutputs.join(", ")}: it was deployed by an older version of the program. ` +
                `Run pulumi up --stack ${centralStackName} first.`,
        );
    }
    for (const [n, d] of [[CENTRAL_OUTPUTS.writerCredentials, creds], [CENTRAL_OUTPUTS.logsCredentials, logsCreds]] as const) {
        if (!d.secret) {
            throw new OperatorError(
                `stack "${cfg.clusterName}": central stack "${e.centralStack}" exports "${n}" in plaintext; it must be a secret output. ` +
                    `Run pulumi up --stack ${centralStackName} with this version of the program.`,
            );
        }
    }
    const known = (writers.value as string[]) ?? [];
    const missing = edgeWriterIds(cfg).filter((w) => !known.includes(w));
    if (missing.length > 0) {
        throw new OperatorError(`stack "${cfg.clusterName}": ${unregisteredWriterAdvice(cfg, missing, known, centralStackName ?? e.centralStack)}`);
    }
    const windowProblem = outOfOrderWindowProblem(cfg, e, String(outOfOrderWindow.value));
    if (windowProblem) throw new OperatorError(windowProblem);
    return {
        remoteWriteUrl: url.value as string,
        receiveLoadBalancerIP: receiveIp.value as string,
        logsLoadBalancerIP: logsIp.value as string,
        caCertPem: ca.value as string,
        credentials: ref.requireOutput(CENTRAL_OUTPUTS.writerCredentials) as pulumi.Output<Record<string, WriterCredential>>,
        logs: {
            endpoint: logsEndpoint.value as string,
            caCertPem: logsCa.value as string,
            credential: pulumi.secret((ref.requireOutput(CENTRAL_OUTPUTS.logsCredentials) as pulumi.Output<Record<string, LogCredential>>).apply((c) => {
                const mine = c[cfg.clusterName];
                if (!mine) {
                    throw new OperatorError(
                        `stack "${cfg.clusterName}": central stack "${e.centralStack}" has no log credential for ${cfg.clusterName}: ` +
                            `add it to agent-receiver:central.writers in Pulumi.${centralStackName}.yaml and run pulumi up --stack ${centralStackName} first.`,
                    );
                }
                return mine;
            })),
        },
    };
}
