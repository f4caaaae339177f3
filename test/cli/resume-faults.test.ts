/**
 * Faults at every model call of every engine, through the CLI binary: the loopback server answers the first N
 * requests and then fails with HTTP 500 on every later one; `generate` must stop with that failure (exit 3,
 * "HTTP 500", run.json failed with the same message), and `resume` against the healthy server must finish
 * with exactly the requested rows. N runs over every request index of a healthy run, so the fault lands in
 * every node that calls a model (probes, discriminator, optimizer, copula, proposer, each final batch).
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { readRunFile } from "../../state/run-dir.ts";
import {
  genericKindOf,
  genericResponder,
  type RealView,
  readRealView,
} from "../support/generic-responder.ts";
import { csvRows, exited, synthgraphChild, useLlmServer, writeRealCsv } from "../support/harness.ts";
import { reply } from "../support/llm-server.ts";

const server = useLlmServer();
let dir = "";
let input = "";
let view: RealView;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "resume-faults-"));
  input = writeRealCsv(dir);
  view = await readRealView(input, "income");
});

const ROWS = 60;
const ENGINES: Array<{ engine: string; args: string[] }> = [
  {
    engine: "synthia",
    args: ["--max-iterations", "2", "--probe-rows", "10", "--batch-rows", "20", "--concurrency", "2"],
  },
  {
    engine: "mallm-gan",
    args: [
      ...["--epochs", "1", "--frozen-epochs", "1", "--mallm-batch", "20", "--examples-per-call", "10"],
      ...["--batch-rows", "20", "--concurrency", "1"],
    ],
  },
  {
    engine: "llmsynthor",
    args: ["--iterations", "2", "--tolerance", "0", "--joints", "2", "--proposals", "4"],
  },
];

describe.each(ENGINES)("a server failing from the Nth request on, --engine $engine", (c) => {
  it("stops with the HTTP 500, then resume finishes with exactly the requested rows", async () => {
    const env = { OLLAMA_HOST: server.ollamaUrl };
    const args = (name: string): string[] => [
      "generate",
      input,
      ...["--rows", String(ROWS), "--out", join(dir, `${name}.csv`), "--run-dir", join(dir, name)],
      ...[
        "--engine",
        c.engine,
        "--model",
        "ollama:llama3.1:8b",
        "--target",
        "income",
        "--seed",
        "2",
        "--quiet",
      ],
      ...c.args,
    ];
    // A healthy run: how many requests the whole run makes.
    server.setDefault(genericResponder(view).respond);
    const healthy = await exited(synthgraphChild(args(`${c.engine}-healthy`), env, dir));
    expect(healthy.code, healthy.stderr).toBe(0);
    // Chat requests only: the client may also ask the server other things (model listings).
    const total = server.chatRequests().length;
    expect(total).toBeGreaterThan(2);

    for (let n = 0; n < total; n++) {
      const name = `${c.engine}-fail-${n}`;
      const g = genericResponder(view);
      let seen = 0;
      let failing = true;
      server.setDefault((req) =>
        failing && genericKindOf(req) !== undefined && ++seen > n
          ? reply.error(500, "injected fault", { retryAfter: "0" })
          : g.respond(req),
      );
      const failed = await exited(synthgraphChild(args(name), env, dir));
      expect(failed.code, `fault after ${n} requests: ${failed.stderr}`).toBe(3);
      expect(failed.stderr).toMatch(/HTTP 500/);
      expect(failed.stderr).not.toMatch(/stopped before writing|internal error|\n\s+at /);
      const run = await readRunFile(join(dir, name));
      expect(run.status).toBe("failed");
      expect(run.error?.message).toMatch(/HTTP 500/);

      failing = false;
      const resumed = await exited(synthgraphChild(["resume", join(dir, name), "--quiet"], env, dir));
      expect(resumed.code, `resume after a fault at request ${n}: ${resumed.stderr}`).toBe(0);
      expect(resumed.stderr).not.toMatch(/error/i);
      expect(csvRows(join(dir, `${name}.csv`))).toHaveLength(ROWS);
      expect((await readRunFile(join(dir, name))).status).toBe("done");

      // A finished run: resume says so and exits 0.
      const again = synthgraphChild(["resume", join(dir, name)], env, dir);
      let out = "";
      again.stdout?.on("data", (b: Buffer) => (out += b.toString()));
      const a = await exited(again);
      expect(a.code).toBe(0);
      expect(out).toBe(`already complete: ${ROWS} rows in ${join(dir, `${name}.csv`)}\n`);
    }
  }, 900_000);
});
