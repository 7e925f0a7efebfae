/**
 * Upstream definitions at the pinned versions, kept in the project as test fixtures:
 * `test/fixtures/upstream/<project>-<version>/`, each folder with a `SOURCE.json` naming the repository, the tag
 * and, for every file, the upstream path it was taken from. A pin in `lib/versions.ts` that moves without its
 * folder fails with the folder to add and where its files come from. Read by the tests and by `npm run images`
 * (the charts' default values name the images they run).
 */
import * as fs from "fs";
import * as path from "path";

const ROOT = path.resolve(__dirname, "..");
export const UPSTREAM_DIR = path.join(ROOT, "test", "fixtures", "upstream");

export interface UpstreamSource {
    readonly repository: string;
    readonly tag: string;
    readonly pin: string;
    readonly files: Record<string, { readonly path: string; readonly extract?: string }>;
}

/** The folder of `project` at `version`; fails naming the folder to add and the upstream files it needs. */
export function upstreamFolder(project: string, version: string, howToRefresh: string): string {
    const dir = path.join(UPSTREAM_DIR, `${project}-${version}`);
    if (!fs.existsSync(path.join(dir, "SOURCE.json"))) {
        const have = fs.readdirSync(UPSTREAM_DIR).filter((d) => d.startsWith(`${project}-`));
        throw new Error(
            `no upstream data for ${project} ${version} (the version pinned in lib/versions.ts): add ` +
                `${path.relative(ROOT, dir)}/ with its SOURCE.json ` +
                `(folders present: ${have.join(", ") || "none"}). ${howToRefresh}`,
        );
    }
    return dir;
}

export function upstreamSource(dir: string): UpstreamSource {
    return JSON.parse(fs.readFileSync(path.join(dir, "SOURCE.json"), "utf8")) as UpstreamSource;
}

/** One file of an upstream folder; it must be listed in the folder's SOURCE.json. */
export function upstreamFile(dir: string, file: string): string {
    if (!(file in upstreamSource(dir).files)) throw new Error(`${dir}/SOURCE.json does not name the source of ${file}`);
    return fs.readFileSync(path.join(dir, file), "utf8");
}
