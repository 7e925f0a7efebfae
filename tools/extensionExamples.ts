/**
 * The extension points as the README documents them (an external writer, tracing), and a copy of a stack file with
 * them applied: the e2e run and the tests plan cluster-01 with them while the committed stack files stay without
 * (an external writer there would issue a credential for a Prometheus that does not exist, and its
 * WriterStoppedSending would page).
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse, stringify } from "yaml";
import { PROJECT } from "../lib/config";
import { ROOT } from "./plan";

/** The README's example of `central.externalWriters[]`. */
export const EXTERNAL_WRITER_EXAMPLE = { id: "legacy-prometheus", sourceRanges: ["192.168.110.0/24"] } as const;

/** The README's example of `central.tracing`. */
export const TRACING_EXAMPLE = { otlpEndpoint: "192.168.104.20:4317", cidr: "192.168.104.0/24", samplingRatio: 0.1 } as const;

/** Folders made by `stackFileWith`, removed when the process exits (plans read the file when they start). */
const madeFolders = new Set<string>();
process.once("exit", () => madeFolders.forEach((d) => fs.rmSync(d, { recursive: true, force: true })));

/**
 * A folder holding `Pulumi.<stack>.yaml` (the committed file, read from `from`) with `change` applied to its
 * `agent-receiver:central` section. Plan it with `planStack(stack, { dir })`.
 */
export function stackFileWith(stack: string, change: (central: Record<string, any>) => void, from = ROOT): string {
    const doc = parse(fs.readFileSync(path.join(from, `Pulumi.${stack}.yaml`), "utf8")) as { config: Record<string, any> };
    const central = doc.config[`${PROJECT}:central`];
    if (central === undefined) throw new Error(`Pulumi.${stack}.yaml has no ${PROJECT}:central section`);
    change(central);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `agent-receiver-${stack}-`));
    madeFolders.add(dir);
    fs.writeFileSync(path.join(dir, `Pulumi.${stack}.yaml`), stringify(doc));
    return dir;
}

/** cluster-01's stack file with the README's external writer (and, with `tracing`, its tracing example). */
export function centralWithExtensions(opts: { externalWriter?: boolean; tracing?: boolean } = { externalWriter: true, tracing: true }): string {
    return stackFileWith("cluster-01", (c) => {
        if (opts.externalWriter) c.externalWriters = [{ ...EXTERNAL_WRITER_EXAMPLE, sourceRanges: [...EXTERNAL_WRITER_EXAMPLE.sourceRanges] }];
        if (opts.tracing) c.tracing = { ...TRACING_EXAMPLE };
    });
}
