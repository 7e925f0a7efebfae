/** Reads this stack's configuration from the Pulumi runtime and validates it (see `config.ts`). */
import * as pulumi from "@pulumi/pulumi";
import { PROJECT, SecretKey, StackConfig, parseFlatConfig, requiredSecrets } from "../lib/config";
import type { StackSecrets } from "./shared";
// eslint-disable-next-line @typescript-eslint/no-require-imports
const runtimeConfig = require("@pulumi/pulumi/runtime/config");

export function loadStackConfig(stack: string): { config: StackConfig; secrets: StackSecrets } {
    const config = parseFlatConfig(stack, pulumi.runtime.allConfig(), (k) => runtimeConfig.isConfigSecret(k));
    const pc = new pulumi.Config(PROJECT);
    const secrets: Partial<Record<SecretKey, pulumi.Output<string>>> = {};
    for (const key of requiredSecrets(config)) secrets[key] = pc.requireSecret(key);
    return { config, secrets };
}
