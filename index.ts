/**
 * synthgraph as a library: the public surface for developers who embed it (read and validate tables, evaluate
 * synthetic data, run or resume an engine durably, compile an engine's graph as a subgraph, hand agents the
 * typed tools). Everything else is internal and may move.
 */
export type { Column, ColumnMeta, Metadata, Row, SdType, Table } from "./data/types.ts";
export { DataError, SynthgraphError } from "./data/errors.ts";
export { parseTable, readTable } from "./data/read.ts";
export { deriveMetadata, metadataToJson, parseMetadataJson, readMetadataFile } from "./data/metadata.ts";
export { tableToCsv, writeCsv } from "./data/write.ts";
export { rowsToTable, tableToRows } from "./data/rows.ts";
export { rowJsonSchema, rowZodSchema } from "./data/schema.ts";
export { createRowValidator } from "./data/validate.ts";

export {
  evaluateTables,
  toJson,
  type EvaluateParams,
  type EvaluateResult,
} from "./stats/metrics/evaluate.ts";
export { analyze, statisticalGuard, type Diagnostics } from "./engines/synthia/analyzer.ts";
export { learnStructure } from "./stats/structure/hill-climb.ts";

export { resolveRoleConfigs } from "./models/spec.ts";
export { createChatModel, createEndpoint } from "./models/factory.ts";
export { callStructured, callText } from "./models/structured.ts";
export { Accounting } from "./models/accounting.ts";

export {
  ConditionGroupSchema,
  ConditionsSchema,
  RunConfigSchema,
  type ConditionGroup,
  type RunConfig,
} from "./state/config.ts";
export * from "./data/predicate/index.ts";
export {
  ConditionsFileSchema,
  conditionsSummary,
  parseConditionsFile,
  planConditions,
  type ConditionPlan,
  type ConditionRequest,
  type ConditionSummary,
} from "./graph/conditions.ts";
export { translateCondition } from "./agents/constraint.ts";
export {
  resumeRun,
  startRun,
  type RunEvent,
  type RunOptions,
  type RunResult,
  type RunStreamEvent,
} from "./graph/run.ts";
export { readRunState, steerRun, streamRun, type SteerOutcome } from "./graph/steer.ts";
export { SteeringActionSchema, type SteeringAction } from "./state/steering.ts";
export { PausePointSchema, type PausePoint } from "./graph/pause.ts";
export { ENGINE_REGISTRY, engineFor, type EngineDefinition } from "./graph/registry.ts";
export { buildSynthiaGraph } from "./engines/synthia/graph.ts";
export { buildMallmGraph } from "./engines/mallm/graph.ts";
export { buildLlmsynthorGraph } from "./engines/llmsynthor/graph.ts";

export { analyzeTool } from "./tools/analyze.ts";
export { synthgraphTools, TOOL_SPECS, type SynthgraphToolOptions } from "./tools/index.ts";
export { exportGraph, lazyRuntime } from "./graph/export.ts";
