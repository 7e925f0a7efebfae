/**
 * Fluent Bit's pipeline (classic format, the chart's `config.*` values), generated so that the test can check its
 * structure: Debian ships no fluent-bit to run it.
 */

export interface FluentBitConfigArgs {
    readonly cluster: string;
    /** namespace → tenant on a cluster with tenants (cluster-02); empty elsewhere. */
    readonly tenantOfNamespace: Record<string, string>;
    /** OpenSearch `host:port` (TLS). */
    readonly endpoint: string;
    readonly username: string;
    /** Name of the environment variable that holds the password (from a Secret; never in the config). */
    readonly passwordEnv: string;
    readonly caFile: string;
    readonly metricsPort: number;
    /** Where the tail positions and the filesystem buffer live on the node (survives pod restarts). */
    readonly stateDir: string;
    /** Most disk the retry buffer may take per output before the oldest chunks are dropped. */
    readonly bufferLimit: string;
}

/** Index prefix per cluster; OpenSearch grants each cluster's user write access to its own prefix only. */
export function logIndexPrefix(cluster: string): string {
    return `logs-${cluster}`;
}

export const TENANT_LUA = "tenant.lua";

export interface FluentBitConfig {
    readonly service: string;
    readonly inputs: string;
    readonly filters: string;
    readonly outputs: string;
    /** Lua scripts (the chart mounts them under /fluent-bit/scripts/). */
    readonly luaScripts: Record<string, string>;
}

function section(name: string, entries: [string, string | number][]): string {
    const width = Math.max(...entries.map(([k]) => k.length));
    return [`[${name}]`, ...entries.map(([k, v]) => `    ${k.padEnd(width)} ${v}`)].join("\n") + "\n";
}

export function fluentBitConfig(a: FluentBitConfigArgs): FluentBitConfig {
    const [host, port] = a.endpoint.split(":");
    const tenants = Object.entries(a.tenantOfNamespace);
    const filters = [
        section("FILTER", [
            ["Name", "kubernetes"],
            ["Match", "kube.*"],
            // A JSON log line is parsed into its own key: merged at the top level, a pod could write the
            // `cluster` and `tenant` fields the platform sets (and so log as another cluster or tenant).
            ["Merge_Log", "On"],
            ["Merge_Log_Key", "log_processed"],
            ["Keep_Log", "Off"],
            // Off: with it, any pod could hide its own logs with the fluentbit.io/exclude annotation.
            ["K8S-Logging.Exclude", "Off"],
            // Labels and annotations can carry object names across tenants and bloat every record.
            ["Labels", "Off"],
            ["Annotations", "Off"],
        ]),
        section("FILTER", [
            ["Name", "modify"],
            ["Match", "kube.*"],
            // Set, not Add: Add keeps a value already in the record.
            ["Set", `cluster ${a.cluster}`],
        ]),
    ];
    const luaScripts: Record<string, string> = {};
    if (tenants.length > 0) {
        filters.push(section("FILTER", [["Name", "lua"], ["Match", "kube.*"], ["script", `/fluent-bit/scripts/${TENANT_LUA}`], ["call", "add_tenant"]]));
        luaScripts[TENANT_LUA] = [
            "-- Sets the tenant that owns the record's namespace (generated from the stack config), and clears it for a",
            "-- namespace no tenant owns: only this filter decides a record's tenant.",
            "local tenants = {",
            ...tenants.map(([ns, t]) => `  [${JSON.stringify(ns)}] = ${JSON.stringify(t)},`),
            "}",
            "function add_tenant(tag, timestamp, record)",
            "  local k = record[\"kubernetes\"]",
            "  local t = k and tenants[k[\"namespace_name\"]]",
            "  record[\"tenant\"] = t",
            "  return 2, timestamp, record",
            "end",
            "",
        ].join("\n");
    }
    return {
        service: section("SERVICE", [
            ["Daemon", "Off"],
            ["Flush", 1],
            ["Log_Level", "info"],
            ["Parsers_File", "/fluent-bit/etc/parsers.conf"],
            ["HTTP_Server", "On"],
            ["HTTP_Listen", "0.0.0.0"],
            ["HTTP_Port", a.metricsPort],
            ["Health_Check", "On"],
            // Chunks that cannot be delivered wait on the node's disk, not in memory.
            ["storage.path", `${a.stateDir}/buffer`],
            ["storage.sync", "normal"],
            ["storage.backlog.mem_limit", "16M"],
        ]),
        inputs: section("INPUT", [
            ["Name", "tail"],
            ["Path", "/var/log/containers/*.log"],
            // Its own logs would loop back through the pipeline when the output fails.
            ["Exclude_Path", "/var/log/containers/fluent-bit-*.log"],
            ["multiline.parser", "cri, docker"],
            ["Tag", "kube.*"],
            ["DB", `${a.stateDir}/tail.db`],
            ["Mem_Buf_Limit", "16MB"],
            ["Skip_Long_Lines", "On"],
            ["storage.type", "filesystem"],
        ]),
        filters: filters.join("\n"),
        outputs: section("OUTPUT", [
            ["Name", "opensearch"],
            ["Match", "kube.*"],
            ["Host", host],
            ["Port", port],
            ["HTTP_User", a.username],
            ["HTTP_Passwd", `\${${a.passwordEnv}}`],
            ["tls", "On"],
            ["tls.verify", "On"],
            ["tls.ca_file", a.caFile],
            ["Logstash_Format", "On"],
            ["Logstash_Prefix", logIndexPrefix(a.cluster)],
            ["Suppress_Type_Name", "On"],
            ["Replace_Dots", "On"],
            ["Trace_Error", "On"],
            ["Retry_Limit", "False"],
            ["storage.total_limit_size", a.bufferLimit],
        ]),
        luaScripts,
    };
}

/** Parse the classic format back into sections (for tests and reviews): `[NAME]` then `key value` lines. */
export function parseClassicConfig(text: string): { name: string; entries: [string, string][] }[] {
    const out: { name: string; entries: [string, string][] }[] = [];
    for (const raw of text.split("\n")) {
        const line = raw.trim();
        if (line === "" || line.startsWith("#")) continue;
        const head = /^\[([A-Z]+)\]$/.exec(line);
        if (head) {
            out.push({ name: head[1], entries: [] });
            continue;
        }
        if (out.length === 0) throw new Error(`entry before any section: ${line}`);
        const m = /^(\S+)\s+(.+)$/.exec(line);
        if (!m) throw new Error(`not a key value line: ${line}`);
        out[out.length - 1].entries.push([m[1], m[2]]);
    }
    return out;
}
