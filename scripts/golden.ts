/** `npm run plan:golden`: rewrite plans/<stack>.yaml, the committed expectation of each stack's offline plan. */
import * as fs from "fs";
import * as path from "path";
import { GOLDEN_DIR, goldenPlan, planStack } from "../tools/plan";
import { STACKS } from "../tools/stacks";


async function main(): Promise<void> {
    fs.mkdirSync(GOLDEN_DIR, { recursive: true });
    for (const stack of STACKS) {
        const file = path.join(GOLDEN_DIR, `${stack}.yaml`);
        fs.writeFileSync(file, goldenPlan(await planStack(stack)));
        console.log(`wrote ${path.relative(process.cwd(), file)}`);
    }
}

main().catch((e) => {
    console.error(e);
    process.exit(1);
});
