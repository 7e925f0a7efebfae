/**
 * `npm run verify -- <stack> [--only <check>,…] [--skip <check>,…] [--log-window <duration>] [--wait <duration>]`:
 * checks a deployed stack against its cluster (README, "Verifying a deployment"). One line per finding, PASS or FAIL,
 * then a count; exit code 0 when nothing failed, 1 when something did, 2 on a usage error. The checks are
 * scripts/lib/verify/checks.ts; they reach the cluster through the stack's kube context (`kubernetes.context`).
 */
import { durationSeconds } from "../lib/config";
import { STACKS } from "../tools/stacks";
import { CHECK_DESCRIPTIONS, CHECK_NAMES, Check, CheckName, Line, checksFor, runCheck } from "./lib/verify/checks";

export interface VerifyArgs {
    readonly stack: string;
    readonly only?: readonly CheckName[];
    readonly skip: readonly CheckName[];
    readonly logWindowMs: number;
    /** How long a failing check is run again (every RETRY_MS) before its FAIL stands: settling right after `pulumi up`. */
    readonly waitMs: number;
}

const DEFAULT_LOG_WINDOW = "30s";
const RETRY_MS = 15000;
const DURATION = /^(\d+(ms|s|m|h))+$/;

export function usage(stacks: readonly string[] = STACKS): string {
    return [
        "usage: npm run verify -- <stack> [--only <check>,…] [--skip <check>,…] [--log-window <duration>] [--wait <duration>]",
        `  stacks: ${stacks.join(", ")}`,
        `  --log-window: how long Fluent Bit's counters are watched (default ${DEFAULT_LOG_WINDOW})`,
        `  --wait: run a failing check again every ${RETRY_MS / 1000}s for up to this long before it fails (default 0s; right after pulumi up, 5m)`,
        "  checks (central stack: writers, receive-ring, watchdog, bucket-upload, log-shipping;",
        "          edge: writers in the central Query, tenant-placement when it has tenants, log-shipping):",
        ...CHECK_NAMES.map((c) => `    ${c.padEnd(17)}${CHECK_DESCRIPTIONS[c]}`),
    ].join("\n");
}

/** The arguments, or what is wrong with them. */
export function parseArgs(argv: readonly string[], stacks: readonly string[] = STACKS): VerifyArgs | { error: string } | { help: true } {
    const positional: string[] = [];
    let only: CheckName[] | undefined;
    const skip: CheckName[] = [];
    let logWindow = DEFAULT_LOG_WINDOW;
    let wait = "0s";
    const checks = (flag: string, value: string | undefined): CheckName[] | string => {
        const names = (value ?? "").split(",").filter(Boolean);
        const unknown = names.filter((n) => !(CHECK_NAMES as readonly string[]).includes(n));
        if (names.length === 0 || unknown.length > 0) return `${flag} takes check names (${CHECK_NAMES.join(", ")}); got ${JSON.stringify(value ?? "")}`;
        return names as CheckName[];
    };
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        if (a === "--help" || a === "-h") return { help: true };
        const [flag, inline] = a.startsWith("--") && a.includes("=") ? [a.slice(0, a.indexOf("=")), a.slice(a.indexOf("=") + 1)] : [a, undefined];
        const value = () => inline ?? argv[++i];
        if (flag === "--only" || flag === "--skip") {
            const got = checks(flag, value());
            if (typeof got === "string") return { error: got };
            if (flag === "--only") only = [...(only ?? []), ...got];
            else skip.push(...got);
        } else if (flag === "--log-window") {
            logWindow = value() ?? "";
            if (!DURATION.test(logWindow) || durationSeconds(logWindow) <= 0) return { error: `--log-window takes a duration such as 30s or 1m; got ${JSON.stringify(logWindow)}` };
        } else if (flag === "--wait") {
            wait = value() ?? "";
            if (!DURATION.test(wait)) return { error: `--wait takes a duration such as 5m; got ${JSON.stringify(wait)}` };
        } else if (a.startsWith("-")) {
            return { error: `unknown option ${a}` };
        } else {
            positional.push(a);
        }
    }
    if (positional.length !== 1) return { error: positional.length === 0 ? "which stack?" : `one stack at a time; got ${positional.join(" ")}` };
    const [stack] = positional;
    if (!stacks.includes(stack)) return { error: `no stack "${stack}": the stacks are ${stacks.join(", ")} (one per Pulumi.<stack>.yaml)` };
    return { stack, only, skip, logWindowMs: durationSeconds(logWindow) * 1000, waitMs: durationSeconds(wait) * 1000 };
}

/** Run the selected checks of a stack, printing each line as its check ends (in a fixed order); the exit code. */
export async function verify(
    args: VerifyArgs,
    out: (line: string) => void,
    opts: { kubeconfig?: string; dir?: string; checkTimeoutMs?: number; retryMs?: number } = {},
): Promise<number> {
    const checks = checksFor(args.stack, { kubeconfig: opts.kubeconfig, dir: opts.dir, logWindowMs: args.logWindowMs });
    const selected = (name: CheckName) => (args.only === undefined || args.only.includes(name)) && !args.skip.includes(name);
    const contexts = [...new Set(checks.filter((c) => selected(c.name)).map((c) => c.context))];
    out(`verify ${args.stack}: kube context${contexts.length === 1 ? "" : "s"} ${contexts.join(", ")}`);
    const timeoutMs = opts.checkTimeoutMs ?? 60000 + args.logWindowMs;
    const deadline = Date.now() + args.waitMs;
    const retryMs = opts.retryMs ?? RETRY_MS;
    const settle = async (c: Check): Promise<Line[]> => {
        for (;;) {
            const lines = await runCheck(c, timeoutMs);
            if (lines.every((l) => l.ok) || Date.now() + retryMs > deadline) return lines;
            await new Promise((r) => setTimeout(r, retryMs));
        }
    };
    // Every check starts at once (Fluent Bit's window runs while the others query); lines print in the checks' order.
    const running = checks.map((c) => (selected(c.name) ? settle(c) : Promise.resolve(undefined)));
    let passed = 0;
    let failed = 0;
    let skipped = 0;
    for (let i = 0; i < checks.length; i++) {
        const lines: Line[] | undefined = await running[i];
        if (lines === undefined) {
            skipped++;
            out(`SKIP  ${checks[i].name.padEnd(17)}not run (${args.only !== undefined && !args.only.includes(checks[i].name) ? "--only" : "--skip"})`);
            continue;
        }
        for (const l of lines) {
            if (l.ok) passed++;
            else failed++;
            out(`${l.ok ? "PASS" : "FAIL"}  ${l.check.padEnd(17)}${l.text}`);
        }
    }
    out(`verify ${args.stack}: ${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} checks skipped` : ""}`);
    return failed > 0 ? 1 : 0;
}

if (require.main === module) {
    const args = parseArgs(process.argv.slice(2));
    if ("help" in args) {
        console.log(usage());
        process.exit(0);
    }
    if ("error" in args) {
        console.error(`${args.error}\n${usage()}`);
        process.exit(2);
    }
    verify(args, (l) => console.log(l)).then(
        // Open port-forwards and the client's keep-alive sockets would keep the process alive: exit with the result.
        (code) => process.exit(code),
        (e: unknown) => {
            console.error(e instanceof Error ? e.message : String(e));
            process.exit(2);
        },
    );
}
