/**
 * `npm run plan -- <stack> [<stack> …]`: the offline plan of a stack (see README). No cluster, CLI or network.
 * Prints the resource tree and the workloads' summed requests/limits; writes out/<stack>/.
 */
import * as path from "path";
import { OperatorError } from "../lib/errors";
import { ROOT, formatTotals, planStack, resourceTotals, resourceTree, writePlan } from "../tools/plan";
import { STACKS } from "../tools/stacks";

async function main(): Promise<void> {
    const args = process.argv.slice(2);
    const stacks = args.includes("--all") ? [...STACKS] : args;
    if (stacks.length === 0) {
        console.error(`usage: npm run plan -- <stack> [<stack> ...] | --all   (stacks: ${STACKS.join(", ")})`);
        process.exit(2);
    }
    for (const stack of stacks) {
        const plan = await planStack(stack);
        const outDir = path.join(ROOT, "out", stack);
        const files = writePlan(plan, outDir);
        console.log(`# Plan of stack ${stack} (offline, mock runtime): ${plan.resources.length} resources`);
        console.log(resourceTree(plan));
        console.log(`\nWorkloads declared by the program: ${formatTotals(resourceTotals(plan))}`);
        console.log(`Wrote ${files.length} files under ${path.relative(process.cwd(), outDir) || "."}/\n`);
    }
}

main().catch((e) => {
    console.error(e instanceof OperatorError ? e.message : e);
    process.exit(1);
});
