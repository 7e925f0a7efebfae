/**
 * `npm run -s images`: every container image the four stacks run, one per line (or a JSON array with `--json`), for
 * the image scan in `.github/workflows/security-scan.yml`: the images the program declares itself (its workloads and
 * Jobs, pinned in lib/versions.ts) and the images the pinned charts run with the program's values (read from the
 * charts' default values in test/fixtures/upstream/, tools/chartImages.ts). `--sources` prints where each comes
 * from. Any failure (a stack that does not plan, a chart image the table cannot name) exits non-zero.
 */
import { planChartImages } from "../tools/chartImages";
import { declaredImages, planStack } from "../tools/plan";
import { STACKS } from "../tools/stacks";

async function main(): Promise<void> {
    const sources = new Map<string, Set<string>>();
    const add = (image: string, from: string) => sources.set(image, (sources.get(image) ?? new Set()).add(from));
    for (const stack of STACKS) {
        const plan = await planStack(stack);
        for (const image of declaredImages(plan)) add(image, `${stack}: the program (lib/versions.ts)`);
        for (const c of planChartImages(plan)) add(c.image, `${stack}: chart ${c.chart} ${c.at}`);
    }
    const list = [...sources.keys()].sort();
    if (process.argv.includes("--json")) console.log(JSON.stringify(list));
    else if (process.argv.includes("--sources")) for (const image of list) console.log(`${image}\n${[...sources.get(image)!].map((s) => `    ${s}`).join("\n")}`);
    else console.log(list.join("\n"));
}

main().then(
    () => process.exit(0),
    (e) => {
        console.error(e instanceof Error ? e.message : e);
        process.exit(1);
    },
);
