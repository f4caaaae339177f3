#!/usr/bin/env bash
# Checks `synthgraph mcp` with the official MCP Inspector in CLI mode (tools/list, then a tools/call of
# `evaluate` on two tables of examples/ and of `sample` with an offline engine, whose rows come back in the
# result). The inspector is installed into bench/.work/inspector (git-ignored), never into the project. Writes
# bench/results/mcp-inspector.json.
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=bench/.work/inspector
mkdir -p "$DIR" bench/results
if [ ! -x "$DIR/node_modules/.bin/mcp-inspector" ]; then
  (cd "$DIR" && { [ -f package.json ] || npm init -y >/dev/null; } &&
    npm install -E --no-audit --no-fund @modelcontextprotocol/inspector@0.15.0 >/dev/null)
fi
INSPECT="$DIR/node_modules/.bin/mcp-inspector --cli node bin/synthgraph.js mcp --root examples"
tools=$($INSPECT --method tools/list)
call=$($INSPECT --method tools/call --tool-name evaluate --tool-arg real=adult.csv --tool-arg synthetic=adult.csv)
sample=$($INSPECT --method tools/call --tool-name sample --tool-arg data=adult.csv --tool-arg engine=bayesnet \
  --tool-arg 'where=age > 60' --tool-arg rows=5 --tool-arg seed=1)
node -e '
const tools = JSON.parse(process.argv[1]).tools.map((t) => t.name);
const call = JSON.parse(process.argv[2]);
const sample = JSON.parse(process.argv[3]);
const rows = sample.structuredContent?.rows ?? [];
const out = { inspector: "@modelcontextprotocol/inspector@0.15.0", tool_count: tools.length, tools,
  evaluate_is_error: call.isError === true,
  evaluate_rows: call.structuredContent?.summary?.rows ?? null,
  evaluate_quality: call.structuredContent?.summary?.quality_overall ?? null,
  sample_is_error: sample.isError === true,
  sample_mode: sample.structuredContent?.mode ?? null,
  sample_groups: sample.structuredContent?.groups ?? null,
  sample_rows: rows.length,
  sample_rows_meeting_where: rows.filter((r) => r.age > 60).length };
require("fs").writeFileSync("bench/results/mcp-inspector.json", JSON.stringify(out, null, 2) + "\n");
console.log(JSON.stringify(out));
' "$tools" "$call" "$sample"
