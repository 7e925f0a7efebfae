/**
 * Reads a container's arguments the way its binary's flag parser does, against the flag list of the pinned version
 * (test/fixtures/upstream/), and says what that parser would refuse.
 *
 * - kingpin (Prometheus, the exporters, the config reloader): `--x=v` or `--x v` for a flag with a value; a Bool is
 *   `--x` or `--no-x` and refuses `--x=v` ("unexpected v"); no positional argument is accepted.
 * - pflag/cobra (kubectl): as kingpin, but a Bool takes `--x=false` and there is no `--no-x`; positional arguments
 *   (the subcommand, then its operands) are the caller's to judge.
 * - getopt_long (memcached): short options `-m 64` or `-m64`, long options as pflag; an option without an argument
 *   refuses `--x=v`.
 */
import type { FlagList, FlagSpec } from "./upstream";

export type CliStyle = "kingpin" | "pflag" | "getopt";

export interface ArgReading {
    /** What the parser would refuse, one line each, spelled as the program wrote it. */
    readonly problems: string[];
    /** Arguments that are not flags or flag values, in order. */
    readonly positionals: string[];
    /** The flags used, in order. */
    readonly used: FlagSpec[];
}

export function readArgs(args: readonly string[], flags: FlagList, style: CliStyle): ArgReading {
    const problems: string[] = [];
    const positionals: string[] = [];
    const used: FlagSpec[] = [];
    for (let i = 0; i < args.length; i++) {
        const a = args[i];
        if (a === "--") {
            positionals.push(...args.slice(i + 1));
            break;
        }
        if (a.startsWith("--")) {
            const eq = a.indexOf("=");
            const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
            let spec = flags.long.get(name);
            if (spec === undefined && style === "kingpin" && name.startsWith("no-")) {
                const plain = flags.long.get(name.slice(3));
                if (plain?.negatable) spec = plain;
                else if (plain) {
                    problems.push(`--${name}: --${plain.long} is not a Bool, so it has no --no- form`);
                    continue;
                }
            }
            if (spec === undefined) {
                problems.push(`--${name}: no such flag`);
                continue;
            }
            used.push(spec);
            if (spec.value === "none" && eq >= 0) problems.push(`${a}: --${name} takes no value`);
            if (spec.value === "required" && eq < 0) {
                if (i + 1 < args.length) i++;
                else problems.push(`--${name}: needs a value`);
            }
            continue;
        }
        if (a.startsWith("-") && a.length > 1) {
            const spec = flags.short.get(a[1]);
            if (spec === undefined) {
                problems.push(`-${a[1]}: no such flag`);
                continue;
            }
            used.push(spec);
            if (spec.value === "required") {
                if (a.length === 2) {
                    if (i + 1 < args.length) i++;
                    else problems.push(`-${a[1]}: needs a value`);
                }
            } else if (a.length > 2) {
                problems.push(`${a}: -${a[1]} takes no value (grouped short flags are not checked)`);
            }
            continue;
        }
        positionals.push(a);
    }
    if (style !== "pflag") for (const p of positionals) problems.push(`${p}: positional argument (the binary takes none)`);
    return { problems, positionals, used };
}
