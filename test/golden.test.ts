import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { GOLDEN_DIR, goldenPlan } from "../tools/plan";
import { STACKS, planStack } from "./helpers/plan";

/** First differing lines, with context, for the failure message. */
function firstDiff(expected: string, actual: string): string {
    const e = expected.split("\n");
    const a = actual.split("\n");
    const i = e.findIndex((line, k) => line !== a[k]);
    const at = i === -1 ? Math.min(e.length, a.length) : i;
    const show = (lines: string[]) => lines.slice(Math.max(0, at - 3), at + 3).map((l, k) => `${String(Math.max(0, at - 3) + k + 1).padStart(6)}| ${l}`).join("\n");
    return `first difference at line ${at + 1}\n--- committed\n${show(e)}\n+++ this checkout\n${show(a)}`;
}

describe("committed plans (plans/<stack>.yaml)", () => {
    for (const stack of STACKS) {
        it(`${stack}: the offline plan matches the committed expectation (update with npm run plan:golden and review the diff)`, async () => {
            const file = path.join(GOLDEN_DIR, `${stack}.yaml`);
            assert.ok(fs.existsSync(file), `missing ${file}: run npm run plan:golden`);
            const expected = fs.readFileSync(file, "utf8");
            const actual = goldenPlan(await planStack(stack));
            if (expected !== actual) assert.fail(`plan of ${stack} differs from plans/${stack}.yaml; if intended, run npm run plan:golden and commit.\n${firstDiff(expected, actual)}`);
        });
    }

    it("the committed plans hold no generated secret", () => {
        for (const stack of STACKS) {
            const text = fs.readFileSync(path.join(GOLDEN_DIR, `${stack}.yaml`), "utf8");
            assert.ok(!text.includes("MOCKSECRET"), `${stack}: a secret value reached plans/${stack}.yaml`);
        }
    });
});
