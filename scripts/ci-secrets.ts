/**
 * `npm run -s ci:secrets -- <stack>`: the operator secrets a stack needs (lib/config.ts `requiredSecrets`), one line
 * each: the config key and the name of the GitHub Environment secret that holds it. The workflows set each one with
 * `pulumi config set --secret` before a preview or an update, so the keys the program requires and the ones CI
 * provides are the same list by construction.
 */
import { requiredSecrets } from "../lib/config";
import { STACKS, stackConfig } from "../tools/stacks";

/** `minioPassword` → `MINIO_PASSWORD`, `alertWebhookTenantB` → `ALERT_WEBHOOK_TENANT_B` (GitHub secret names are upper case). */
export function ciSecretName(key: string): string {
    return key.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toUpperCase();
}

export function ciSecrets(stack: string): { key: string; name: string }[] {
    return requiredSecrets(stackConfig(stack)).map((key) => ({ key, name: ciSecretName(key) }));
}

if (require.main === module) {
    const stack = process.argv[2];
    if (!stack || !STACKS.includes(stack)) {
        console.error(`usage: npm run -s ci:secrets -- <stack>   (stacks: ${STACKS.join(", ")})`);
        process.exit(2);
    }
    for (const s of ciSecrets(stack)) console.log(`${s.key} ${s.name}`);
}
