/**
 * Builds a stack from its validated configuration: one Kubernetes provider for the stack's cluster, then the central
 * pipeline (`central.ts`) or an edge's agents (`edge.ts`). The root `index.ts` calls `buildStack` with the stack's
 * own config; the offline plan calls it through that entry point for any stack.
 */
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { CentralConfig, EdgeConfig, StackConfig } from "../lib/config";
import { buildCentral } from "./central";
import { buildEdge } from "./edge";
import type { StackSecrets } from "./shared";

export type { StackSecrets } from "./shared";

export async function buildStack(cfg: StackConfig, secrets: StackSecrets): Promise<Record<string, unknown>> {
    if (cfg.kubernetes.renderYamlToDirectory !== undefined) {
        pulumi.log.warn(
            `rendering manifests into ${cfg.kubernetes.renderYamlToDirectory} instead of applying them: the rendered YAML holds every Secret ` +
                `in plaintext (keys, passwords); keep that folder out of git. No object-storage resources are created on a render stack.`,
        );
    }
    const provider = new k8s.Provider(`${cfg.clusterName}-k8s`, {
        context: cfg.kubernetes.context,
        enableServerSideApply: true,
        renderYamlToDirectory: cfg.kubernetes.renderYamlToDirectory,
    });
    if (cfg.role === "central") return buildCentral(cfg, cfg.central as CentralConfig, secrets, provider);
    return buildEdge(cfg, cfg.edge as EdgeConfig, secrets, provider);
}
