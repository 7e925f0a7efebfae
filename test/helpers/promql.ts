/** PromQL through Prometheus' own grammar: the program's parser (lib/promql.ts), which the tests share. */
export { parsePromQL } from "../../lib/promql";
export type { ParsedPromQL } from "../../lib/promql";
