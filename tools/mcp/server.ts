/**
 * The Model Context Protocol server: the same tool specs as synthgraphTools, with input and output schemas
 * (results carry `structuredContent`), progress notifications while run_status waits, and every failure a
 * tool error (`isError`) rather than a crash. Two transports:
 *
 * - stdio: stdout carries nothing but protocol (cli/mcp.ts sends console output to stderr);
 * - streamable HTTP at /mcp, stateless (one protocol server per request; the tool context, and so the run
 *   registry, is shared). Security: binds 127.0.0.1 unless told otherwise, and then only with a bearer
 *   token (compared in constant time); on loopback without a token the Host header must be a loopback
 *   name (DNS rebinding); request bodies over the limit (1 MB) are refused with 413; log lines carry method,
 *   path and status only, never headers or bodies.
 */
import { createHash, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { McpServer } from "@modelcontextprotocol/sdk/server/mcp.js";
import { StdioServerTransport } from "@modelcontextprotocol/sdk/server/stdio.js";
import { StreamableHTTPServerTransport } from "@modelcontextprotocol/sdk/server/streamableHttp.js";
import { SynthgraphError } from "../../data/errors.ts";
import { errorText, type ToolContext } from "../context.ts";
import { runSpec, TOOL_SPECS } from "../index.ts";

export const SERVER_NAME = "synthgraph";
export const SERVER_VERSION = "0.1.0";
export const DEFAULT_BODY_LIMIT = 1024 * 1024;
export const DEFAULT_HOST = "127.0.0.1";
export const DEFAULT_PORT = 8765;

/** A protocol server exposing every tool over `ctx`. */
export function createMcpServer(ctx: ToolContext): McpServer {
  const server = new McpServer({ name: SERVER_NAME, version: SERVER_VERSION });
  for (const spec of TOOL_SPECS) {
    server.registerTool(
      spec.name,
      { description: spec.description, inputSchema: spec.input, outputSchema: spec.output },
      async (args: unknown, extra) => {
        const token = extra._meta?.progressToken;
        const progress =
          token === undefined
            ? undefined
            : (p: { progress: number; total?: number; message?: string }) =>
                extra.sendNotification({
                  method: "notifications/progress",
                  params: { progressToken: token, ...p },
                });
        try {
          const out = await runSpec(spec, args, ctx, {
            ...(progress ? { progress } : {}),
            signal: extra.signal,
          });
          return {
            content: [{ type: "text" as const, text: ctx.redact(JSON.stringify(out)) }],
            structuredContent: out,
          };
        } catch (err) {
          return { isError: true, content: [{ type: "text" as const, text: errorText(err, ctx.redact) }] };
        }
      },
    );
  }
  return server;
}

/** Serves on stdin/stdout until stdin closes. */
export async function serveStdio(ctx: ToolContext): Promise<McpServer> {
  const server = createMcpServer(ctx);
  await server.connect(new StdioServerTransport());
  return server;
}

export interface HttpOptions {
  host?: string;
  port?: number;
  /** Required unless host is a loopback address. */
  token?: string;
  bodyLimit?: number;
  /** One line per request (default: stderr). */
  log?: (line: string) => void;
}

export interface HttpServer {
  url: string;
  server: Server;
  close(): Promise<void>;
}

const LOOPBACK = new Set(["127.0.0.1", "::1", "localhost"]);

export function isLoopback(host: string): boolean {
  return LOOPBACK.has(host) || /^127(\.\d{1,3}){3}$/.test(host);
}

const digest = (s: string): Buffer => createHash("sha256").update(s, "utf8").digest();

/** Constant-time check of `Authorization: Bearer <token>` (both sides hashed to equal lengths first). */
export function tokenMatches(header: string | undefined, token: string): boolean {
  const m = /^Bearer (.+)$/.exec(header ?? "");
  const given = digest(m ? m[1] : "");
  return timingSafeEqual(given, digest(token)) && m !== null;
}

/** Whether a Host header names this loopback server (not a DNS-rebound foreign name). */
function loopbackHostHeader(host: string | undefined): boolean {
  if (!host) return false;
  const name = host.startsWith("[") ? host.slice(1, host.indexOf("]")) : host.replace(/:\d+$/, "");
  return isLoopback(name);
}

class BodyTooLarge extends Error {}

async function readBody(req: IncomingMessage, limit: number): Promise<string> {
  const declared = Number(req.headers["content-length"] ?? "0");
  if (declared > limit) throw new BodyTooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new BodyTooLarge();
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function jsonRpcError(res: ServerResponse, status: number, code: number, message: string): void {
  if (res.headersSent) return;
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify({ jsonrpc: "2.0", error: { code, message }, id: null }));
}

/** Streamable HTTP at /mcp. Refuses to bind a non-loopback host without a token. */
export async function serveHttp(ctx: ToolContext, opts: HttpOptions = {}): Promise<HttpServer> {
  const host = opts.host ?? DEFAULT_HOST;
  const token = opts.token && opts.token.length > 0 ? opts.token : undefined;
  const limit = opts.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  if (!isLoopback(host) && token === undefined) {
    throw new SynthgraphError(`refusing to serve on ${host} without a token`, {
      hint: "pass --token (or set SYNTHGRAPH_TOKEN), or bind 127.0.0.1",
      exitCode: 2,
    });
  }

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? "").split("?")[0];
    if (path !== "/mcp") return jsonRpcError(res, 404, -32601, "not found: the MCP endpoint is /mcp");
    if (token !== undefined) {
      if (!tokenMatches(req.headers.authorization, token)) {
        res.setHeader("www-authenticate", 'Bearer realm="synthgraph"');
        return jsonRpcError(res, 401, -32001, "unauthorized: send Authorization: Bearer <token>");
      }
    } else if (!loopbackHostHeader(req.headers.host)) {
      return jsonRpcError(res, 403, -32002, "forbidden: Host is not a loopback name");
    }
    if (req.method !== "POST") {
      res.setHeader("allow", "POST");
      return jsonRpcError(res, 405, -32000, "method not allowed: this stateless server takes POST only");
    }
    let body: unknown;
    try {
      body = JSON.parse(await readBody(req, limit));
    } catch (err) {
      if (err instanceof BodyTooLarge) {
        res.setHeader("connection", "close");
        return jsonRpcError(res, 413, -32600, `request body over ${limit} bytes`);
      }
      return jsonRpcError(res, 400, -32700, "parse error: the body is not JSON");
    }
    const server = createMcpServer(ctx);
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    res.on("close", () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res, body);
  };

  const server = createServer((req, res) => {
    res.once("finish", () => log(`mcp ${req.method} ${req.url?.split("?")[0]} ${res.statusCode}`));
    handle(req, res).catch((err: unknown) => jsonRpcError(res, 500, -32603, errorText(err, ctx.redact)));
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? DEFAULT_PORT, host, () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const shown = addr.family === "IPv6" ? `[${addr.address}]` : addr.address;
  return {
    url: `http://${shown}:${addr.port}/mcp`,
    server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
