/**
 * `npm run -s images`: the container images the program itself declares across the four stacks, one per line (or
 * a JSON array with `--json`), for the image scan in `.github/workflows/security-scan.yml`. Images inside the
 * charts (kube-prometheus-stack, OpenSearch, Fluent Bit, …) are the charts' own and are not listed.
 */
import { declaredImages, planStack } from "../tools/plan";
import { STACKS } from "../tools/stacks";


async function main(): Promise<void> {
    const all = new Set<string>();
    for (const stack of STACKS) for (const image of declaredImages(await planStack(stack))) all.add(image);
    const list = [...all].sort();
    console.log(process.argv.includes("--json") ? JSON.stringify(list) : list.join("\n"));
}

main().then(
    () => process.exit(0),
    (e) => {
        console.error(e instanceof Error ? e.message : e);
        process.exit(1);
    },
);
