/**
 * The Pulumi program: read this stack's typed configuration (failing before any resource on bad input) and
 * build the components its role needs. All wiring is in `lib/stack.ts`; all resources are in `components/`.
 */
import * as pulumi from "@pulumi/pulumi";
import { loadStackConfig } from "./lib/pulumiConfig";
import { buildStack } from "./lib/stack";

export = async (): Promise<Record<string, unknown>> => {
    const { config, secrets } = loadStackConfig(pulumi.getStack());
    return await buildStack(config, secrets);
};
