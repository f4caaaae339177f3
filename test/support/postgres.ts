/**
 * A throwaway database per test file for the Postgres-backed run and worker tests. Not a test file.
 *
 * The server: SYNTHGRAPH_TEST_DATABASE_URL (.ci/run starts one with .ci/postgres.sh and exports it); without
 * it, a cluster this file starts with `.ci/postgres.sh start` when PostgreSQL is installed here (stopped after
 * the file's tests). With neither, the tests are skipped and the reason is printed, except when
 * SYNTHGRAPH_REQUIRE_POSTGRES is set (.ci/run sets it): then the missing database is an error, so CI never
 * skips them.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import pg from "pg";
import { afterAll, beforeAll } from "vitest";

const SCRIPT = fileURLToPath(new URL("../../.ci/postgres.sh", import.meta.url));
const GIVEN_URL = process.env.SYNTHGRAPH_TEST_DATABASE_URL?.trim() || undefined;

/** Whether a PostgreSQL server binary is installed (Debian's layout, or initdb on PATH). */
function postgresInstalled(): boolean {
  const root = "/usr/lib/postgresql";
  if (existsSync(root) && readdirSync(root).some((v) => existsSync(join(root, v, "bin", "initdb"))))
    return true;
  return (process.env.PATH ?? "").split(":").some((d) => d !== "" && existsSync(join(d, "initdb")));
}

/** True when the Postgres tests must be skipped (says why on stderr); throws when CI requires them. */
export function skipWithoutPostgres(file: string): boolean {
  if (GIVEN_URL !== undefined || postgresInstalled()) return false;
  const why = "SYNTHGRAPH_TEST_DATABASE_URL is unset and no PostgreSQL is installed (initdb not found)";
  if (process.env.SYNTHGRAPH_REQUIRE_POSTGRES) {
    throw new Error(`${file}: ${why}; .ci/run starts one with .ci/postgres.sh`);
  }
  process.stderr.write(
    `${file}: skipped: ${why}. Install PostgreSQL (apt-get install postgresql) or source .ci/postgres.sh\n`,
  );
  return true;
}

/**
 * A fresh database made before all tests of the file and dropped after them (on a cluster started for the
 * file when no URL is given); `url` is its URL.
 */
export function useTestDatabase(): { readonly url: string } {
  let url: string | undefined;
  let server = GIVEN_URL;
  let clusterDir: string | undefined;
  const name = `sg_test_${randomBytes(4).toString("hex")}`;
  beforeAll(async () => {
    if (server === undefined) {
      clusterDir = mkdtempSync(join(tmpdir(), "synthgraph-pg-"));
      server = execFileSync("bash", [SCRIPT, "start", clusterDir], { encoding: "utf8" }).trim();
    }
    const admin = new pg.Client({ connectionString: server });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    const u = new URL(server);
    u.pathname = `/${name}`;
    url = u.toString();
  }, 60_000);
  afterAll(async () => {
    if (server !== undefined && url !== undefined) {
      const admin = new pg.Client({ connectionString: server });
      await admin.connect();
      await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    }
    if (clusterDir !== undefined) execFileSync("bash", [SCRIPT, "stop", clusterDir]);
  }, 60_000);
  return {
    get url() {
      if (url === undefined)
        throw new Error("the test database is used outside a test (it is made in beforeAll)");
      return url;
    },
  };
}
