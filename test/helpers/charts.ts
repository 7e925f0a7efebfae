/** The pinned charts' default values and a chart's effective values: tools/charts.ts (npm run images reads them too). */
export { chartDefaults, chartFolder, deepMerge, effectiveValues, withSubcharts } from "../../tools/charts";
