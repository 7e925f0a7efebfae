/** What both roles' wiring uses: the stack's secrets, the namespaces every cluster shares, the pull secret. */
import * as pulumi from "@pulumi/pulumi";
import { PlatformNamespace } from "../components/platformNamespace";
import { LOG_SHIPPER_NAMESPACE } from "../lib/config";
import type { SecretKey, StackConfig } from "../lib/config";

/** Secret config values (set by the operator with `pulumi config set --secret`). */
export type StackSecrets = { readonly [K in SecretKey]?: pulumi.Input<string> };

/**
 * The namespaces the program fixes (central monitoring, Fluent Bit) and where node-exporter goes: defined with the
 * config schema, which checks that no configured namespace takes one of them.
 */
export { CENTRAL_MONITORING_NAMESPACE, LOG_SHIPPER_NAMESPACE, nodeExporterNamespace } from "../lib/config";

/**
 * The registry mirror's credentials for a namespace's pull Secret, when the config names one. `registryPassword`
 * is then present: the config check (`parseFlatConfig`) requires it before any resource exists.
 */
export function pullSecretFor(cfg: StackConfig, secrets: StackSecrets) {
    const ps = cfg.images.pullSecret;
    if (!ps) return undefined;
    return { registry: ps.registry, username: ps.username, password: secrets.registryPassword as pulumi.Input<string> };
}

export function logShipperNamespace(cfg: StackConfig, secrets: StackSecrets, opts: pulumi.ComponentResourceOptions): PlatformNamespace {
    return new PlatformNamespace(
        `${cfg.clusterName}-logging-node`,
        {
            namespace: LOG_SHIPPER_NAMESPACE,
            podSecurity: "privileged",
            // hostPath mounts of /var/log (read) and the node's buffer directory; baseline forbids hostPath.
            podSecurityReason: "Fluent Bit reads container logs from the node through hostPath",
            pullSecret: pullSecretFor(cfg, secrets),
        },
        opts,
    );
}
