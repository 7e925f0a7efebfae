/**
 * Credential rotation as configuration (`central.rotation`): a credential's resource name carries its generation, so
 * raising the generation makes Pulumi create a new key or password and delete the old one on the next `pulumi up`.
 */

/** A resource name for a generation: unchanged for 0, so configurations without rotation keep their resources. */
export function generationName(base: string, generation = 0): string {
    return generation > 0 ? `${base}-g${generation}` : base;
}
