/**
 * The policy pack `pulumi preview --policy-pack policy` and `pulumi up --policy-pack policy` run (README, "Policy as
 * code"): the CLI starts it in this folder, compiled by ts-node with ./tsconfig.json, and sends it every resource.
 * Constructing the PolicyPack serves it; the policies themselves are in ./policies.ts.
 */
import { PolicyPack } from "@pulumi/policy";
import { POLICIES } from "./policies";

new PolicyPack("agent-receiver", { enforcementLevel: "mandatory", policies: [...POLICIES] });
