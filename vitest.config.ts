import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: "forks",
    // Both cores: most slow files wait on child processes and loopback servers (vitest defaults to cores - 1).
    maxWorkers: 2,
  },
});
