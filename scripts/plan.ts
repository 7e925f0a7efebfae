/**
 * `npm run plan -- <stack> [<stack> …] | --all [--diff]`: the offline plan of a stack (see README, and `--help`).
 * No cluster, CLI or network. `main` takes its arguments and streams as parameters, so the tests run it in-process.
 */
import * as fs from "fs";
import * as path from "path";
import { styleText } from "util";
import { GOLDEN_DIR, PlanError, ROOT, displayPath, formatTotals, goldenPlan, isOperatorError, planStack, resourceSummary, resourceTotals, resourceTree, stackNames, unknownStack, workloadTable, writePlan } from "../tools/plan";
import { Paint, diffPlans, formatDiff, isEmptyDiff, plain } from "../tools/planDiff";

/** Exit statuses (also in `--help` and the README). */
export const EXIT = { ok: 0, differs: 1, error: 2 } as const;

export interface Output {
    write(text: string): unknown;
    readonly isTTY?: boolean;
}

export interface PlanIo {
    readonly stdout: Output;
    readonly stderr: Output;
    readonly env: Record<string, string | undefined>;
    /** Folder of the stack files (default: the project root). */
    readonly dir?: string;
    /** Where `out/<stack>/` goes (default: the project root). */
    readonly outRoot?: string;
    /** Folder of the committed plans (default: plans/). */
    readonly goldenDir?: string;
}

export function usage(stacks: readonly string[]): string {
    return `usage: npm run plan -- [--diff] <stack> [<stack> ...]
       npm run plan -- [--diff] --all

The offline plan of a stack: the real program with its Pulumi.<stack>.yaml under Pulumi's mock runtime
(no Pulumi CLI, cluster or network). Prints the resources it would create as a tree and per type, the
workloads it runs (the program's and each Helm chart's, from the pinned charts' defaults merged with the
program's values) with their summed CPU/memory requests and limits, and writes out/<stack>/. An edge stack
plans its central stack first and reads that plan's outputs through the stack reference. Progress goes to
stderr.

stacks: ${stacks.join(", ") || "none"} (one per Pulumi.<stack>.yaml)

options:
  --all        every stack
  --diff       compare with the committed plan plans/<stack>.yaml instead of printing the tree:
               what this checkout would create, delete and update (npm run plan:golden rewrites it)
  -h, --help   this text

exit status:
  0  planned; with --diff: the same as the committed plan
  1  with --diff: differs from the committed plan
  2  an error: an unknown option or stack, a stack file that is not valid YAML, invalid configuration,
     or a refusal of the program (each printed as a message naming the file or the config key)

Colour only on a terminal, and not when NO_COLOR is set.
`;
}

/** Colour when writing to a terminal and NO_COLOR (https://no-color.org) is unset or empty. */
export function useColour(out: Output, env: Record<string, string | undefined>): boolean {
    return out.isTTY === true && !env.NO_COLOR && env.TERM !== "dumb";
}

const STYLES = { add: "green", delete: "red", change: "yellow", hunk: "cyan" } as const;

function painter(colour: boolean): Paint {
    return colour ? (style, text) => styleText(STYLES[style], text, { validateStream: false }) : plain;
}

/** Run the planner; returns the exit status. */
export async function main(argv: readonly string[], io: PlanIo): Promise<number> {
    const dir = io.dir ?? ROOT;
    const print = (text: string) => io.stdout.write(text + "\n");
    const progress = (text: string) => io.stderr.write(`plan: ${text}\n`);
    const fail = (text: string, status: number = EXIT.error) => {
        io.stderr.write(text + "\n");
        return status;
    };
    let known: string[];
    try {
        known = stackNames(dir);
    } catch (e) {
        return fail(`cannot list the stack files in ${dir}: ${(e as Error).message}`);
    }

    const options = argv.filter((a) => a.startsWith("-"));
    const names = argv.filter((a) => !a.startsWith("-"));
    if (options.includes("-h") || options.includes("--help")) {
        io.stdout.write(usage(known));
        return EXIT.ok;
    }
    const unknownOptions = options.filter((o) => !["--all", "--diff"].includes(o));
    if (unknownOptions.length > 0) return fail(`unknown option ${unknownOptions.join(", ")}\n\n${usage(known)}`);
    const all = options.includes("--all");
    const diff = options.includes("--diff");
    if (all && names.length > 0) return fail(`--all plans every stack: name stacks or --all, not both\n\n${usage(known)}`);
    const stacks = all ? known : names;
    if (stacks.length === 0) return fail(usage(known));
    for (const s of stacks) if (!known.includes(s)) return fail(`error: ${unknownStack(s, dir).message}`);

    const paint = painter(useColour(io.stdout, io.env));
    let status: number = EXIT.ok;
    try {
        for (const stack of stacks) {
            progress(`planning ${stack}`);
            const plan = await planStack(stack, { dir, progress });
            const outDir = path.join(io.outRoot ?? ROOT, "out", stack);
            const files = writePlan(plan, outDir);
            print(`# Plan of stack ${stack} (offline, mock runtime)`);
            if (plan.central) {
                print(
                    `Planned ${plan.central.stack} first: ${stack} reads its outputs through the stack reference ${plan.central.reference}, ` +
                        `so the endpoint and credentials below are that plan's.`,
                );
            }
            if (diff) {
                const file = path.join(io.goldenDir ?? GOLDEN_DIR, `${stack}.yaml`);
                if (!fs.existsSync(file)) return fail(`no committed plan ${displayPath(file)} to compare with: npm run plan:golden writes it`);
                const d = diffPlans(fs.readFileSync(file, "utf8"), goldenPlan(plan));
                if (isEmptyDiff(d)) {
                    print(`No differences from ${displayPath(file)}.\n`);
                } else {
                    print(`Differences from ${displayPath(file)} (the committed plan) to this checkout:`);
                    print(formatDiff(d, paint));
                    print(`If intended: npm run plan:golden, and commit ${displayPath(file)}.\n`);
                    status = EXIT.differs;
                }
                continue;
            }
            print(resourceTree(plan));
            print("");
            print(resourceSummary(plan));
            print("  (a Helm chart counts as one resource here; pulumi preview also lists each object it renders)");
            const totals = resourceTotals(plan);
            print("\nWorkloads (requests and limits per pod; copies: replicas, or nodes for a DaemonSet):");
            print(workloadTable(totals));
            print(formatTotals(totals));
            print(`\nWrote ${files.length} files under ${displayPath(outDir)}/\n`);
        }
    } catch (e) {
        if (e instanceof PlanError || isOperatorError(e)) return fail(`error: ${e.message}`);
        throw e;
    }
    return status;
}

if (require.main === module) {
    main(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env }).then(
        (status) => {
            process.exitCode = status;
        },
        (e) => {
            // Not an operator's mistake: a defect of the program or the planner, with its stack trace.
            console.error(e);
            process.exitCode = EXIT.error;
        },
    );
}
