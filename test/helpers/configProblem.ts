/** The problem a configuration is refused for, at one key: what `pulumi up` would print for it. */
import * as assert from "assert";
import { ConfigError, parseStackConfig } from "../../lib/config";

/**
 * Parses `raw` as `stack`'s configuration and returns the problem reported at `key` (the key the operator types,
 * `agent-receiver:…`). Fails unless the configuration is refused with a ConfigError that names the stack and that key.
 */
export function configProblem(stack: string, raw: unknown, key: string): { path: string; message: string } {
    let error: unknown;
    try {
        parseStackConfig(stack, raw);
    } catch (e) {
        error = e;
    }
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${error}`);
    assert.ok(error.message.startsWith(`invalid configuration for stack "${stack}":`), error.message);
    const problem = error.problems.find((p) => p.path === key);
    assert.ok(problem, `no problem at ${key}: ${error.message}`);
    return problem;
}
