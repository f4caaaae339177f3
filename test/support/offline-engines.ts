/**
 * What the offline engines' tests share (not a test file): the example Adult table as the engines read it,
 * and end-to-end runs of `synthgraph generate --engine <copula|bayesnet>` as child processes with every model
 * endpoint pointed at a loopback listener that counts connections (so a test can assert none was made).
 */
import { createServer, type Server } from "node:net";
import { resolve } from "node:path";
import { readTable } from "../../data/read.ts";
import type { Metadata, Table } from "../../data/types.ts";

export const ADULT_EXAMPLE = resolve(import.meta.dirname, "../../examples/adult.csv");

export async function adultModelInputs(): Promise<{ table: Table; metadata: Metadata }> {
  return readTable(ADULT_EXAMPLE);
}

/** A loopback port that accepts and immediately drops connections, counting them. */
export async function connectionCounter(): Promise<{
  url: string;
  count: () => number;
  close: () => Promise<void>;
}> {
  let n = 0;
  const server: Server = createServer((socket) => {
    n++;
    socket.destroy();
  });
  await new Promise<void>((res) => server.listen(0, "127.0.0.1", res));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("no port");
  return {
    url: `http://127.0.0.1:${address.port}`,
    count: () => n,
    close: () => new Promise<void>((res) => server.close(() => res())),
  };
}

/** The data rows of a CSV without quoted fields (the engines write adult's values unquoted), as objects. */
export function csvObjects(text: string): Array<Record<string, string>> {
  if (text.includes('"')) throw new Error("a quoted field: parse with data/read.ts instead");
  const [head, ...lines] = text.trimEnd().split("\n");
  const names = head.split(",");
  return lines.map((l) => {
    const cells = l.split(",");
    if (cells.length !== names.length) throw new Error(`row with ${cells.length} cells: ${l}`);
    return Object.fromEntries(names.map((n, j) => [n, cells[j]]));
  });
}
