/** Blocks of the README that a test compares with what the program renders. */
import * as fs from "fs";
import * as path from "path";
import { ROOT } from "../../tools/plan";

export function readme(): string {
    return fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
}

/** The fenced block right after the line `<!-- marker -->`; fails when the README has no such marker or block. */
export function blockAfter(marker: string, text = readme()): { lang: string; code: string } {
    const m = new RegExp(`^<!-- ${marker.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} -->\\n\`\`\`(\\w*)\\n([\\s\\S]*?)^\`\`\`$`, "m").exec(text);
    if (!m) throw new Error(`README.md: no fenced block after <!-- ${marker} -->`);
    return { lang: m[1], code: m[2] };
}

/** The README's section under a heading (`### Title`), up to the next heading of the same or a higher level. */
export function section(heading: string, text = readme()): string {
    const level = /^#+/.exec(heading)![0].length;
    const start = text.indexOf(`\n${heading}\n`);
    if (start < 0) throw new Error(`README.md: no heading ${heading}`);
    const rest = text.slice(start + heading.length + 2);
    const end = rest.search(new RegExp(`^#{1,${level}} `, "m"));
    return end < 0 ? rest : rest.slice(0, end);
}
