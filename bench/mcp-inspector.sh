#!/usr/bin/env bash
# Checks `synthgraph mcp` with the official MCP Inspector in CLI mode (tools/list, then a tools/call of
# `evaluate` on two tables of examples/). The inspector is installed into bench/.work/inspector (git-ignored),
# never into the project. Writes bench/results/mcp-inspector.json.
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
node -e '
const tools = JSON.parse(process.argv[1]).tools.map((t) => t.name);
const call = JSON.parse(process.argv[2]);
const out = { inspector: "@modelcontextprotocol/inspector@0.15.0", tools,
  evaluate_is_error: call.isError === true,
  evaluate_rows: call.structuredContent?.summary?.rows ?? null,
  evaluate_quality: call.structuredContent?.summary?.quality_overall ?? null };
require("fs").writeFileSync("bench/results/mcp-inspector.json", JSON.stringify(out, null, 2) + "\n");
console.log(JSON.stringify(out));
' "$tools" "$call"
