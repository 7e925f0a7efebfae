/**
 * A plan against the committed one (`plans/<stack>.yaml`), resource by resource: what this checkout would add,
 * delete and change, and each change as the lines of that resource's YAML that differ. A resource is matched by its
 * URN, so a rename or re-parenting shows as the delete and create it would be on a deployed stack.
 */
import { structuredPatch } from "diff";
import { parse, stringify } from "yaml";

interface GoldenResource {
    readonly urn: string;
    readonly type: string;
    readonly name: string;
}

interface GoldenDoc {
    readonly resources: GoldenResource[];
    readonly outputs: unknown;
}

export interface ResourceChange {
    readonly type: string;
    readonly name: string;
    /** Unified-diff hunks of the resource's YAML: `@@ …` headers, then lines starting with ` `, `-` or `+`. */
    readonly lines: string[];
}

export interface PlanDiff {
    readonly added: GoldenResource[];
    readonly deleted: GoldenResource[];
    readonly changed: ResourceChange[];
    /** Hunks of the stack outputs' YAML; empty when they are the same. */
    readonly outputs: string[];
}

const yamlOf = (v: unknown) => stringify(v, { lineWidth: 0, sortMapEntries: true });

function hunks(before: string, after: string): string[] {
    const patch = structuredPatch("committed", "plan", before, after, undefined, undefined, { context: 2 });
    return patch.hunks.flatMap((h) => [`@@ -${h.oldStart},${h.oldLines} +${h.newStart},${h.newLines} @@`, ...h.lines]);
}

/** Compare two golden plans (the text `goldenPlan` writes). */
export function diffPlans(committedText: string, planText: string): PlanDiff {
    const committed = parse(committedText) as GoldenDoc;
    const plan = parse(planText) as GoldenDoc;
    const byUrn = (d: GoldenDoc) => new Map((d.resources ?? []).map((r) => [r.urn, r]));
    const before = byUrn(committed);
    const after = byUrn(plan);
    const changed: ResourceChange[] = [];
    for (const [urn, r] of after) {
        const old = before.get(urn);
        if (!old) continue;
        const [a, b] = [yamlOf(old), yamlOf(r)];
        if (a !== b) changed.push({ type: r.type, name: r.name, lines: hunks(a, b) });
    }
    const outputsBefore = yamlOf(committed.outputs ?? {});
    const outputsAfter = yamlOf(plan.outputs ?? {});
    return {
        added: [...after.values()].filter((r) => !before.has(r.urn)),
        deleted: [...before.values()].filter((r) => !after.has(r.urn)),
        changed,
        outputs: outputsBefore === outputsAfter ? [] : hunks(outputsBefore, outputsAfter),
    };
}

export function isEmptyDiff(d: PlanDiff): boolean {
    return d.added.length === 0 && d.deleted.length === 0 && d.changed.length === 0 && d.outputs.length === 0;
}

/** How a line is shown: the CLI colours on a terminal, tests and pipes get plain text. */
export type Paint = (style: "add" | "delete" | "change" | "hunk", text: string) => string;
export const plain: Paint = (_style, text) => text;

/** The diff as `pulumi preview --diff` shows one: `+` create, `-` delete, `~` update, each change's lines indented. */
export function formatDiff(d: PlanDiff, paint: Paint = plain): string {
    const lines: string[] = [];
    const line = (l: string) => (l.startsWith("@@") ? paint("hunk", l) : l.startsWith("+") ? paint("add", l) : l.startsWith("-") ? paint("delete", l) : l);
    for (const r of d.added) lines.push(paint("add", `  + ${r.type}  ${r.name}`));
    for (const r of d.deleted) lines.push(paint("delete", `  - ${r.type}  ${r.name}`));
    for (const c of d.changed) {
        lines.push(paint("change", `  ~ ${c.type}  ${c.name}`));
        for (const l of c.lines) lines.push(`      ${line(l)}`);
    }
    if (d.outputs.length > 0) {
        lines.push(paint("change", "  ~ outputs"));
        for (const l of d.outputs) lines.push(`      ${line(l)}`);
    }
    const counts = [
        `${d.added.length} to create`,
        `${d.deleted.length} to delete`,
        `${d.changed.length} to update`,
        ...(d.outputs.length > 0 ? ["outputs changed"] : []),
    ];
    lines.push(`  ${counts.join(", ")}`);
    return lines.join("\n");
}
