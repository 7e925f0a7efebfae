/**
 * The Pulumi program: read this stack's typed configuration (failing before any resource on bad input) and build the
 * components its role needs. The wiring by role is in `stacks/`; every resource is in `components/`.
 */
import * as pulumi from "@pulumi/pulumi";
import { buildStack } from "./stacks";
import { loadStackConfig } from "./stacks/load";

export = async (): Promise<Record<string, unknown>> => {
    const { config, secrets } = loadStackConfig(pulumi.getStack());
    return await buildStack(config, secrets);
};
