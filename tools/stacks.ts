/**
 * The stacks of this project: one per `Pulumi.<stack>.yaml` file at the root. Every script, test and workflow check
 * takes its list from here, so a new stack file is planned and checked without touching any of them.
 */
import * as path from "path";
import { StackConfig, parseFlatConfig } from "../lib/config";
import { ROOT, readStackFile, stackNames } from "./plan";

// Defined beside the stack file reader (the planner names the existing stacks when one is unknown).
export { stackNames };

export const STACKS: readonly string[] = stackNames();

/** A stack's validated configuration, from its file (secrets stand in as placeholders). */
export function stackConfig(stack: string, dir = ROOT): StackConfig {
    const file = readStackFile(stack, dir);
    return parseFlatConfig(stack, file.flat, (k) => file.secretKeys.includes(k));
}

/** The edge stacks (role `edge`), and the one central stack. */
export const EDGE_STACKS: readonly string[] = STACKS.filter((s) => stackConfig(s).role === "edge");
export const CENTRAL_STACKS: readonly string[] = STACKS.filter((s) => stackConfig(s).role === "central");

export function stackFile(stack: string, dir = ROOT): string {
    return path.join(dir, `Pulumi.${stack}.yaml`);
}
