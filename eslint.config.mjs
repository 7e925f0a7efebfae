// Lint: typescript-eslint's recommended rules plus Pulumi's (no Output inside template literals; they need types),
// and the layering: imports only point down (index.ts → stacks/ → components/ → lib/; tools/ and scripts/ apart;
// policy/, the policy pack, reads lib/ only).
import tseslint from "typescript-eslint";
import pulumi from "@pulumi/eslint-plugin";

/** A rule forbidding imports of the given folders (relative paths, from any depth). */
const forbid = (message, ...folders) => ({
    "no-restricted-imports": [
        "error",
        { patterns: folders.map((f) => ({ regex: `^(\\.\\./|\\./)+${f}(/|$)`, message })) },
    ],
});

export default tseslint.config(
    { ignores: ["node_modules/", "bin/", "out/", "eslint.config.mjs"] },
    ...tseslint.configs.recommended,
    {
        languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
        plugins: { "@pulumi": pulumi },
        rules: {
            "@pulumi/no-output-in-template-literal": "error",
            "@pulumi/no-output-instance-in-template-literal": "error",
            "@typescript-eslint/no-explicit-any": "off",
        },
    },
    // lib/ is the ground floor: pure helpers, importing nothing above it.
    { files: ["lib/**/*.ts"], rules: forbid("lib/ is pure: it must not import components/, stacks/, tools/, scripts/ or policy/", "components", "stacks", "tools", "scripts", "policy") },
    // components/ build resources from their arguments; they know no stack, role or tooling.
    { files: ["components/**/*.ts"], rules: forbid("components/ must not import stacks/, tools/ or scripts/ (wiring lives in stacks/)", "stacks", "tools", "scripts") },
    // stacks/ wire components by role; the program never imports the offline tooling.
    { files: ["stacks/**/*.ts", "index.ts"], rules: forbid("the program must not import tools/ or scripts/ (the offline planner loads the program, not the reverse)", "tools", "scripts") },
    // tools/ (the offline runtime and planner) load the program only through index.ts.
    { files: ["tools/**/*.ts"], rules: forbid("tools/ reach the program through index.ts only, never a component or a stack directly", "components", "stacks", "scripts") },
    // policy/ (the policy pack the CLI runs on its own) shares the rules of lib/ with the tests and knows nothing else.
    { files: ["policy/**/*.ts"], rules: forbid("policy/ imports lib/ only (the pack runs without the program)", "components", "stacks", "tools", "scripts", "index") },
);
