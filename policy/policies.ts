/**
 * The pack's policies: the rules of ../lib/policyRules.ts (the ones test/stacks.test.ts runs on the offline plans),
 * applied to every Kubernetes object a `pulumi preview` or `pulumi up` registers, the objects helm.v4 Charts render
 * included, less the documented exemptions (./exemptions.ts). Every policy is mandatory: a violation fails the preview,
 * and stops `pulumi up` before it changes anything.
 *
 * Kept apart from index.ts, which serves the pack (constructing a PolicyPack starts its gRPC server), so the tests can
 * call each policy's validateResource directly.
 */
import type { ReportViolation, ResourceValidationArgs, ResourceValidationPolicy } from "@pulumi/policy";
import {
    KubernetesObject,
    allowAllEgressViolations,
    hardenedContainerViolations,
    plaintextSecretViolations,
    wildcardRbacViolations,
} from "../lib/policyRules";
import { exemptionsFor } from "./exemptions";

/**
 * Whether a resource type is a whole Kubernetes object: the provider's resources (`kubernetes:<group>/<version>:<Kind>`,
 * custom resources too), not the components that render them (helm.v4 Chart, yaml/v2 ConfigGroup, kustomize), not the
 * provider itself, and not a `…Patch` (a patch carries only the fields it changes, so it cannot be judged whole).
 */
export function isKubernetesObjectType(type: string): boolean {
    return /^kubernetes:[^:]+:[A-Za-z0-9]+$/.test(type) && !/^kubernetes:(helm\.sh|yaml|kustomize)\//.test(type) && !type.endsWith("Patch");
}

function kubernetesPolicy(
    name: string,
    description: string,
    violations: (obj: KubernetesObject, args: ResourceValidationArgs) => string[],
): ResourceValidationPolicy {
    return {
        name,
        description,
        enforcementLevel: "mandatory",
        validateResource: (args: ResourceValidationArgs, reportViolation: ReportViolation) => {
            if (!isKubernetesObjectType(args.type)) return;
            for (const message of violations(args.props as KubernetesObject, args)) reportViolation(message);
        },
    };
}

const waived = <K extends "hardenedContainers" | "wildcardRbac">(args: ResourceValidationArgs, obj: KubernetesObject, key: K) =>
    exemptionsFor(args.urn, obj).flatMap((e) => (e.waives[key] ?? []) as NonNullable<(typeof e.waives)[K]>[number][]);

export const POLICIES: readonly ResourceValidationPolicy[] = [
    kubernetesPolicy(
        "hardened-containers",
        "Every container and init container of a workload runs non-root, with a read-only root filesystem, no privilege escalation, all capabilities dropped, RuntimeDefault seccomp, CPU and memory requests and a memory limit.",
        (obj, args) => hardenedContainerViolations(obj, waived(args, obj, "hardenedContainers")),
    ),
    kubernetesPolicy(
        "no-allow-all-egress",
        "No NetworkPolicy egress rule without peers and ports (to: [] counts as none) or to 0.0.0.0/0 on every port; no Cilium egress to the world/all entities, to 0.0.0.0/0 or without peers.",
        (obj) => allowAllEgressViolations(obj),
    ),
    kubernetesPolicy("no-wildcard-rbac", 'No Role or ClusterRole rule with "*" in verbs, resources or apiGroups.', (obj, args) => wildcardRbacViolations(obj, waived(args, obj, "wildcardRbac"))),
    kubernetesPolicy(
        "no-plaintext-secret",
        "No credential-named environment variable with a literal value, and no private key outside a Secret's data. (Whether a Secret's data is a Pulumi secret is not visible to a policy; the offline tests check it.)",
        (obj) => plaintextSecretViolations(obj),
    ),
];
