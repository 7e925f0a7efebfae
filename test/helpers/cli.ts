/**
 * What `pulumi up` prints for an error the program throws, reproduced with the SDK's own pieces: the Node.js
 * language host's uncaught-error handler (`@pulumi/pulumi/cmd/run/run.js`) prints a `RunError`'s message alone and
 * anything else as "Running program '…' failed with an unhandled exception:" followed by `defaultErrorMessage`
 * (`@pulumi/pulumi/cmd/run/error`), which is `util.inspect` of the error: stack trace and own fields.
 */
import * as pulumi from "@pulumi/pulumi";
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { defaultErrorMessage } = require("@pulumi/pulumi/cmd/run/error") as { defaultErrorMessage(err: unknown): string };

/** The program path the CLI names in its "Running program" line (the project directory). */
export const PROGRAM_DIR = "/path/to/agent-receiver";

/** The text the operator reads for `err`, without terminal colours. */
export function cliPrints(err: unknown): string {
    const plain = (s: string) => s.replace(/\u001b\[[0-9;]*m/g, "");
    if (pulumi.RunError.isInstance(err)) return plain(err.message);
    if (pulumi.ResourceError.isInstance(err)) return plain((err as pulumi.ResourceError & { hideStack?: boolean }).hideStack ? err.message : defaultErrorMessage(err));
    return plain(`Running program '${PROGRAM_DIR}' failed with an unhandled exception:\n${defaultErrorMessage(err)}`);
}

/** The error a promise rejects with (fails if it resolves). */
export async function rejection(p: Promise<unknown>): Promise<unknown> {
    try {
        await p;
    } catch (e) {
        return e;
    }
    throw new Error("expected the program to fail, it succeeded");
}
