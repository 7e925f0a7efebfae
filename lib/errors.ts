/**
 * Errors an operator can cause (bad configuration, a central stack not deployed yet, an edge not registered).
 *
 * They extend `pulumi.RunError` because of how `pulumi up` reports a program's uncaught error: a `RunError` is
 * printed as its message alone, anything else with `util.inspect` (stack trace, and every own field of the error
 * object). An operator must read a sentence naming the stack and the key to fix, not an inspected object.
 */
import * as pulumi from "@pulumi/pulumi";

/** A problem the operator fixes in configuration or by deploying in order; `pulumi up` prints the message alone. */
export class OperatorError extends pulumi.RunError {
    constructor(message: string) {
        super(message);
        this.name = "OperatorError";
    }
}
