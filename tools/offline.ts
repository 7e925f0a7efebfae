/**
 * The offline runtime: runs the real program under Pulumi's mock runtime and records every resource it
 * registers (type, name, parent, inputs with their secretness). Used by `npm run plan` and by the tests.
 *
 * No Pulumi CLI, provider plugin, cluster or network is involved. Providers are not called: resources whose
 * outputs the program reads (random passwords, TLS keys and certificates, stack references) get deterministic
 * stand-ins here, and every stand-in for a secret contains the marker `MOCKSECRET` so that a leak is easy to
 * find in any rendered file.
 */
import * as pulumi from "@pulumi/pulumi";
// Internal modules of the SDK: the public API has no hook for the parent URN or for waiting on pending RPCs.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const rpc = require("@pulumi/pulumi/runtime/rpc");
// eslint-disable-next-line @typescript-eslint/no-require-imports
const settings = require("@pulumi/pulumi/runtime/settings");
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { Stack } = require("@pulumi/pulumi/runtime/stack");

/** A value the program marked secret (or that came from a secret). Rendered as `[secret]`. */
export class SecretValue {
    constructor(readonly value: unknown) {}
    toJSON(): string {
        return "[secret]";
    }
}

export const SECRET_MARKER = "MOCKSECRET";

export interface PlannedResource {
    readonly urn: string;
    readonly type: string;
    readonly name: string;
    /** URN of the parent resource ("" for the root stack). */
    readonly parent: string;
    readonly custom: boolean;
    /** Inputs as the program registered them; secrets are `SecretValue`s. */
    readonly inputs: Record<string, unknown>;
    /** `protect` and `retainOnDelete` as the program set them. */
    readonly protect: boolean;
    readonly retainOnDelete: boolean;
    readonly ignoreChanges: string[];
    /** Explicit `dependsOn` URNs. */
    readonly dependencies: string[];
}

export interface StackReferenceState {
    readonly outputs: Record<string, unknown>;
    readonly secretOutputNames: string[];
}

export interface OfflineOptions {
    readonly project: string;
    readonly stack: string;
    /** State of each stack a `pulumi.StackReference` may name; a missing name reads as a stack with no outputs. */
    readonly stackReferences?: Record<string, StackReferenceState>;
    /** The flat config map (`agent-receiver:role` → value) and which keys are secret. */
    readonly config?: Record<string, string>;
    readonly secretKeys?: string[];
}

export interface OfflineResult {
    readonly resources: PlannedResource[];
    /** Stack outputs; secret outputs are `SecretValue`s. */
    readonly outputs: Record<string, unknown>;
}

/** Replace the SDK's wire form of secrets (`{4dabf18193072939515e22adb298388d: …}`) with `SecretValue`. */
function convertWire(v: unknown): unknown {
    if (Array.isArray(v)) return v.map(convertWire);
    if (v && typeof v === "object") {
        const o = v as Record<string, unknown>;
        if (o[rpc.specialSigKey] === rpc.specialSecretSig) return new SecretValue(convertWire(o.value));
        if (o[rpc.specialSigKey] !== undefined) return o; // assets, resource references: leave as they are
        return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, convertWire(x)]));
    }
    return v;
}

/** When the offline runtime "issues" its stand-in certificates (their `validityEndTime` counts from it). */
export const MOCK_ISSUED_AT = Date.parse("2026-11-01T00:00:00Z");

/** Stand-in outputs for the resources whose outputs the program uses. */
function fakeOutputs(type: string, name: string, inputs: Record<string, unknown>): Record<string, unknown> {
    const pem = (kind: string, body: string) => `-----BEGIN ${kind}-----\n${body}\n-----END ${kind}-----\n`;
    switch (type) {
        case "random:index/randomPassword:RandomPassword":
            return { ...inputs, result: pulumi.secret(`${SECRET_MARKER}-${name}`), bcryptHash: pulumi.secret(`$2a$10$${SECRET_MARKER}${name.replace(/[^A-Za-z0-9]/g, "")}`) };
        case "random:index/randomId:RandomId":
            return { ...inputs, hex: `mock${name.replace(/[^a-z0-9]/g, "")}`.slice(0, 16) };
        case "tls:index/privateKey:PrivateKey":
            return {
                ...inputs,
                privateKeyPem: pulumi.secret(pem("PRIVATE KEY", `${SECRET_MARKER}-${name}`)),
                privateKeyPemPkcs8: pulumi.secret(pem("PRIVATE KEY", `${SECRET_MARKER}-pkcs8-${name}`)),
                publicKeyPem: pem("PUBLIC KEY", `mock-public-${name}`),
            };
        case "tls:index/certRequest:CertRequest":
            return { ...inputs, certRequestPem: pem("CERTIFICATE REQUEST", `mock-csr-${name}`) };
        case "tls:index/selfSignedCert:SelfSignedCert":
        case "tls:index/locallySignedCert:LocallySignedCert": {
            // A fixed issue time, so that the plan is the same on every run: NotAfter is that plus the validity.
            const hours = Number(inputs.validityPeriodHours ?? 0);
            const validityEndTime = new Date(MOCK_ISSUED_AT + hours * 3600 * 1000).toISOString().replace(".000Z", "Z");
            return { ...inputs, certPem: pem("CERTIFICATE", `mock-cert-${name}`), validityEndTime };
        }
        default:
            return inputs;
    }
}

class RecordingMocks implements pulumi.runtime.Mocks {
    constructor(private readonly refs: Record<string, StackReferenceState>) {}

    newResource(args: pulumi.runtime.MockResourceArgs): { id: string; state: Record<string, unknown> } {
        if (args.type === "pulumi:pulumi:StackReference") {
            // The stack name is the read id (`new StackReference(name, { name: stack })`), else the resource name.
            const stack = args.id || args.name;
            const ref = this.refs[stack] ?? { outputs: {}, secretOutputNames: [] };
            return { id: stack, state: { name: stack, outputs: ref.outputs, secretOutputNames: ref.secretOutputNames } };
        }
        return { id: `${args.name}-id`, state: fakeOutputs(args.type, args.name, args.inputs) };
    }

    call(args: pulumi.runtime.MockCallArgs): Record<string, unknown> {
        // The program makes no invokes; one appearing means a data source was added without thinking about the
        // offline plan. Fail loudly rather than invent an answer.
        throw new Error(`unexpected invoke ${args.token} in the offline runtime`);
    }
}

/** Resolve an Output (or plain value) to its value, wrapped in SecretValue where it is secret. */
async function resolve(v: unknown): Promise<unknown> {
    const out = pulumi.output(v) as any;
    const [value, secret] = await Promise.all([out.promise(), out.isSecret]);
    return secret ? new SecretValue(value) : value;
}

let running = false;

/**
 * Run `program` under the mock runtime with the given stack name and config, and return what it registered.
 * Runs are serialised: the Pulumi runtime is global to the process.
 */
export async function runOffline(
    opts: OfflineOptions,
    program: () => Promise<Record<string, unknown> | void>,
): Promise<OfflineResult> {
    if (running) throw new Error("runOffline is not re-entrant: await the previous run first");
    running = true;
    try {
        pulumi.runtime.setAllConfig(opts.config ?? {}, opts.secretKeys ?? []);
        await pulumi.runtime.setMocks(new RecordingMocks(opts.stackReferences ?? {}), opts.project, opts.stack, true);
        const resources: PlannedResource[] = [];
        const monitor = settings.getMonitor();
        const wrap = (method: "registerResource" | "readResource", custom: (req: any) => boolean) => {
            const original = monitor[method].bind(monitor);
            monitor[method] = (req: any, callback: (err: unknown, resp: any) => void) =>
                original(req, (err: unknown, resp: any) => {
                    if (!err) {
                        const props = method === "registerResource" ? req.getObject() : req.getProperties();
                        resources.push({
                            urn: resp.getUrn(),
                            type: req.getType(),
                            name: req.getName(),
                            parent: req.getParent() ?? "",
                            custom: custom(req),
                            inputs: convertWire(rpc.deserializeProperties(props)) as Record<string, unknown>,
                            protect: method === "registerResource" ? Boolean(req.getProtect()) : false,
                            retainOnDelete: method === "registerResource" ? Boolean(req.getRetainondelete()) : false,
                            ignoreChanges: method === "registerResource" ? req.getIgnorechangesList() : [],
                            dependencies: method === "registerResource" ? req.getDependenciesList() : [],
                        });
                    }
                    callback(err, resp);
                });
        };
        wrap("registerResource", (req) => req.getCustom());
        wrap("readResource", () => true);

        let returned: Record<string, unknown> = {};
        // What `pulumi.runtime.runInPulumiStack` does, keeping the stack resource: when the program throws, the
        // stack's outputs carry the rejection in two more promises (isKnown, isSecret) that nothing awaits. Under the
        // CLI the language host reports it once; here the caller gets it, and those copies would surface as an
        // unhandled rejection that kills the process with a stack trace after the caller has handled the error.
        const stack = new Stack(async () => {
            returned = (await program()) ?? {};
            return returned;
        }) as { outputs: { promise(): Promise<unknown>; isKnown: Promise<boolean>; isSecret: Promise<boolean> } };
        for (const p of [stack.outputs.isKnown, stack.outputs.isSecret]) p.catch(() => undefined);
        await stack.outputs.promise();
        await settings.waitForRPCs();
        const outputs: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(returned)) outputs[k] = await resolve(v);
        return { resources, outputs };
    } finally {
        running = false;
    }
}

/** The `{outputs, secretOutputNames}` a StackReference to this stack would see. */
export function asStackReference(outputs: Record<string, unknown>): StackReferenceState {
    const plain: Record<string, unknown> = {};
    const secretOutputNames: string[] = [];
    for (const [k, v] of Object.entries(outputs)) {
        if (v instanceof SecretValue) {
            secretOutputNames.push(k);
            plain[k] = v.value;
        } else plain[k] = v;
    }
    return { outputs: plain, secretOutputNames };
}

/** Replace SecretValue with `[secret]` (for rendering) or with the value (for schema validation). */
export function mapSecrets(v: unknown, reveal: boolean): unknown {
    if (v instanceof SecretValue) return reveal ? mapSecrets(v.value, reveal) : "[secret]";
    if (Array.isArray(v)) return v.map((x) => mapSecrets(x, reveal));
    if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, mapSecrets(x, reveal)]));
    return v;
}
