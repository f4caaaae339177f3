/**
 * The copula and proposal agents end to end through the real ChatOllama and ChatOpenAI clients against the
 * loopback server (a test double replaying scripted replies): valid replies, messy ones repaired or dropped with
 * reasons, re-asks when nothing is usable, and the sampler fed with the result.
 */
import { describe, expect, it } from "vitest";
import { inferJointGroups } from "../../../engines/llmsynthor/copula-agent.ts";
import { proposeSamples } from "../../../engines/llmsynthor/proposer.ts";
import { getColumn } from "../../../data/build.ts";
import type { CodedColumn, Metadata, NumericColumn } from "../../../data/types.ts";
import { Accounting } from "../../../models/accounting.ts";
import { sampleProposals } from "../../../engines/llmsynthor/sampler.ts";
import { useLlmServer } from "../../support/harness.ts";
import { endpointFor, PROVIDERS } from "../../support/llm-endpoints.ts";
import { type RecordedRequest } from "../../support/llm-server.ts";

const META: Metadata = {
  rowCount: 100,
  columns: [
    { name: "age", sdtype: "numerical", integer: true, min: 18, max: 90, missingRate: 0 },
    { name: "price", sdtype: "numerical", integer: false, min: 0, max: 2000, missingRate: 0 },
    {
      name: "gender",
      sdtype: "categorical",
      levels: [
        { value: "Female", count: 55 },
        { value: "Male", count: 45 },
      ],
      missingRate: 0,
    },
    {
      name: "tier",
      sdtype: "categorical",
      levels: [
        { value: "Developing", count: 60 },
        { value: "Developed", count: 40 },
      ],
      missingRate: 0,
    },
  ],
};

const server = useLlmServer();

const guidance = { joint: "JOINT-GUIDE", marginal: "MARGINAL-GUIDE" };

function providerSchema(req: RecordedRequest, provider: string): Record<string, unknown> {
  if (provider === "ollama") return req.format as Record<string, unknown>;
  return (req.responseFormat as { json_schema: { schema: Record<string, unknown> } }).json_schema.schema;
}

describe.each(PROVIDERS)("%s", (provider) => {
  it("copula: validated groups; unknown columns removed, short and repeated groups dropped, with reasons", async () => {
    server.script(
      JSON.stringify({
        "1": ["age", "gender"],
        "2": ["Gender", "zodiac"],
        "3": ["age", "gender", "zodiac"],
        "4": ["tier", "price"],
      }),
    );
    const accounting = new Accounting();
    const r = await inferJointGroups({
      endpoint: endpointFor(server, provider),
      metadata: META,
      nJoints: 3,
      seed: 1,
      accounting,
    });
    expect(r.groups).toEqual([
      ["age", "gender"],
      ["tier", "price"],
    ]);
    expect(r.reasons).toEqual([
      'group 2: "Gender" read as "gender"',
      'group 2: removed unknown column "zodiac"',
      "group 2: dropped, fewer than two valid columns",
      'group 3: removed unknown column "zodiac"',
      "group 3: dropped, same columns as an earlier group",
    ]);
    expect(r.attempts).toBe(1);
    const [req] = server.chatRequests();
    expect(req.messages[0].content).toContain("extract at most 3 correlated variable groups");
    const schema = providerSchema(req, provider);
    expect(Object.keys(schema.properties as object)).toEqual(["1", "2", "3"]);
    expect(accounting.snapshot().by_role.copula.calls).toBe(1);
  });

  it("copula: a reply with no usable group is re-asked with the reasons; the paper's trailing comma is tolerated", async () => {
    server.script(
      '{"1": ["zodiac", "age"]}',
      '```json\n{"1": ["age", "price"], "2": ["gender", "tier"],}\n```',
    );
    const r = await inferJointGroups({ endpoint: endpointFor(server, provider), metadata: META, seed: 1 });
    expect(r.groups).toEqual([
      ["age", "price"],
      ["gender", "tier"],
    ]);
    expect(r.attempts).toBe(2);
    expect(r.reasons[0]).toMatch(/attempt 1: .*no usable group.*removed unknown column "zodiac"/);
    const second = server.chatRequests()[1];
    expect(second.messages.at(-1)?.content).toMatch(/removed unknown column \\?"zodiac/);
  });

  it("copula: no usable group after the re-asks gives no groups and says why", async () => {
    server.script('{"1": ["zodiac"]}', '{"1": ["zodiac"]}');
    const r = await inferJointGroups({
      endpoint: endpointFor(server, provider),
      metadata: META,
      seed: 1,
      maxReasks: 1,
    });
    expect(r.groups).toEqual([]);
    expect(r.reasons.at(-1)).toBe("no usable joint group: grounding on marginals only");
  });

  it("proposer: the paper's format, counts rescaled to n_samples, rows sampled inside the proposals", async () => {
    server.script(
      JSON.stringify({
        n_proposals: 2,
        proposal1: {
          reason: "young women",
          proposal: { age: [18, 30], price: [10, 100], gender: "Female", tier: "Developing" },
          num: 30,
        },
        proposal2: {
          reason: "older men",
          proposal: { age: [50, 70], price: [500, 900.5], gender: "Male", tier: "Developed" },
          num: 10,
        },
      }),
    );
    const accounting = new Accounting();
    const r = await proposeSamples({
      endpoint: endpointFor(server, provider),
      metadata: META,
      guidance,
      nSamples: 100,
      seed: 3,
      accounting,
    });
    expect(r.proposals.map((p) => [p.reason, p.count])).toEqual([
      ["young women", 75],
      ["older men", 25],
    ]);
    expect(r.report).toMatchObject({
      received: 2,
      accepted: 2,
      repaired: 0,
      dropped: 0,
      issues: [],
      attempts: 1,
    });
    const [req] = server.chatRequests();
    expect(req.messages[0].content).toContain("Create no more than 5 proposals totaling 100 samples:");
    expect(req.messages[0].content).toContain("**Joint Guidance:**\nJOINT-GUIDE");
    const schema = providerSchema(req, provider);
    const item = (schema.properties as Record<string, { properties: { proposal: { required: string[] } } }>)
      .proposal1;
    expect(item.properties.proposal.required).toEqual(["age", "price", "gender", "tier"]);
    expect(accounting.snapshot().by_role.proposer.calls).toBe(1);

    const t = sampleProposals(r.proposals, META, 3);
    expect(t.nRows).toBe(100);
    const age = (getColumn(t, "age") as NumericColumn).values;
    const gender = getColumn(t, "gender") as CodedColumn;
    let women = 0;
    for (let i = 0; i < t.nRows; i++) {
      const g = gender.levels[gender.codes[i]];
      if (g === "Female") women++;
      expect(Number.isInteger(age[i])).toBe(true);
      if (g === "Female") expect(age[i] >= 18 && age[i] <= 30).toBe(true);
      else expect(age[i] >= 50 && age[i] <= 70).toBe(true);
    }
    expect(women).toBe(75);
  });

  it("proposer: messy proposals are repaired or dropped with reasons", async () => {
    const messy = [
      "Here are the proposals:",
      "```json",
      JSON.stringify({
        proposals: [
          {
            reason: "a",
            proposal: { age: [40, 30], price: [-50, 100], gender: "female", tier: "Developing" },
            num: 20,
          },
          {
            reason: "b",
            proposal: { age: [20, 30], price: [10, 20], gender: "Robot", tier: "Developed" },
            num: 50,
          },
          {
            reason: "c",
            proposal: { age: [20, 30], gender: "Male", tier: "Developed", zodiac: "Leo" },
            count: "20",
          },
          {
            reason: "d",
            proposal: { age: [20, 30], price: [5000, 6000], gender: "Male", tier: "Developed" },
            num: 5,
          },
        ],
      }),
      "```",
    ].join("\n");
    server.script(messy);
    const r = await proposeSamples({
      endpoint: endpointFor(server, provider),
      metadata: META,
      guidance,
      nSamples: 10,
      seed: 3,
    });
    expect(r.proposals.map((p) => p.reason)).toEqual(["a", "c"]);
    expect(r.proposals.map((p) => p.count)).toEqual([5, 5]);
    expect(r.proposals[0].parts).toEqual({
      age: { kind: "range", min: 30, max: 40 },
      price: { kind: "range", min: 0, max: 100 },
      gender: { kind: "category", value: "Female" },
      tier: { kind: "category", value: "Developing" },
    });
    expect(r.proposals[1].parts.price).toEqual({ kind: "marginal" });
    expect(r.report).toMatchObject({ received: 4, accepted: 2, repaired: 2, dropped: 2, attempts: 1 });
    expect(r.report.issues).toEqual([
      { proposal: 0, action: "repaired", reason: '"age": swapped min > max' },
      { proposal: 0, action: "repaired", reason: '"price": clipped to the real range [0, 2000]' },
      { proposal: 0, action: "repaired", reason: '"gender": "female" read as the category "Female"' },
      { proposal: 1, action: "dropped", reason: '"gender" has no category "Robot"' },
      { proposal: 2, action: "repaired", reason: 'ignored unknown variable "zodiac"' },
      {
        proposal: 2,
        action: "repaired",
        reason: '"price" is missing from the proposal: filled from the real marginal',
      },
      {
        proposal: 3,
        action: "dropped",
        reason: '"price" range [5000,6000] lies outside the real range [0, 2000]',
      },
    ]);
  });

  it("proposer: a reply with no valid proposal is re-asked with the reasons quoted", async () => {
    server.script(
      JSON.stringify({
        n_proposals: 1,
        proposal1: {
          reason: "x",
          proposal: { age: [20, 30], price: [1, 2], gender: "Robot", tier: "Developed" },
          num: 3,
        },
      }),
      JSON.stringify({
        n_proposals: 1,
        proposal1: {
          reason: "y",
          proposal: { age: [20, 30], price: [1, 2], gender: "Male", tier: "Developed" },
          num: 3,
        },
      }),
    );
    const r = await proposeSamples({
      endpoint: endpointFor(server, provider),
      metadata: META,
      guidance,
      nSamples: 7,
      seed: 3,
    });
    expect(r.proposals.map((p) => [p.reason, p.count])).toEqual([["y", 7]]);
    expect(r.report.attempts).toBe(2);
    expect(r.report.rejected[0]).toMatch(/attempt 1: .*no valid proposal.*has no category \\?"Robot/);
    expect(server.chatRequests()[1].messages.at(-1)?.content).toMatch(/Robot/);
  });
});
