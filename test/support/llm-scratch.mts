import { startLlmServer, reply } from "./llm-server.ts";
import { endpointFor } from "./llm-endpoints.ts";
const s = await startLlmServer();
s.script("hello there", reply.truncated("hello there"));
const ep = endpointFor(s, "openai");
for (let i = 0; i < 2; i++) {
  let agg: any;
  for await (const c of await ep.chat.stream("hi")) agg = agg ? agg.concat(c) : c;
  console.log(agg?.content, agg?.response_metadata, agg?.usage_metadata);
}
await s.close();
