// AmoCRM Lead as a tool of n8n's AI Agent, in real n8n: the agent
// (@n8n/n8n-nodes-langchain, shipped with n8n) talks to a scripted
// OpenAI-compatible server on 127.0.0.1 (no model, no network), through n8n's
// OpenAI credential with its base URL pointed there, and calls the package's
// node as a tool (`<package>.amoCrmLeadTool`, the tool version n8n makes of a
// `usableAsTool` node) against the emulator. Per version, one n8n boot
// (`n8n execute-batch`) runs three agent workflows, one conversation each:
// get a lead, create a lead and read its name back, ask for a lead with a
// bad ID. The tests check
// what the model was sent (tool names, descriptions, $fromAI parameters),
// what the tools answered, and what the agent returned.
//
// What the descriptions must say is read from the built node description
// (dist/), not typed in here.

import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';

import { operation, packageNodes } from '../package-nodes.mjs';
import { messageText, MOCK_MODEL, startOpenAiMock } from './openai-mock.mjs';
import { Amo, LEAD_NODE, VERSIONS, emulator, expectOk, longLivedCredential, n8nWithPackage } from './support.mjs';

const LEAD = packageNodes().find((n) => n.type === LEAD_NODE);
/** The tool version n8n makes of a `usableAsTool` node: `<type>Tool`. */
const LEAD_TOOL = `${LEAD_NODE}Tool`;

/** n8n's tool name for a node: its name with runs of other characters as "_". */
const toolName = (nodeName) => nodeName.replace(/[^a-zA-Z0-9_-]+/g, '_').slice(0, 64);

/** A parameter left to the model, as n8n's "let the model define this" writes it. */
const fromAI = (key, description, type) => `={{ $fromAI('${key}', '${description.replace(/'/g, "\\'")}', '${type}') }}`;

/**
 * The tools given to the agent: one node per operation, every value the
 * model decides written with $fromAI. `fromAI` lists what the model must be
 * offered for each: {key: [type, description]}.
 */
const TOOLS = [
  {
    node: 'Get Lead',
    operation: 'get',
    fromAI: { leadId: ['string', 'The lead ID, a whole number such as 12345'] },
    parameters: (f) => ({ leadId: { __rl: true, mode: 'id', value: f('leadId') }, with: ['contacts'] }),
  },
  {
    node: 'Create Lead',
    operation: 'create',
    fromAI: { name: ['string', 'Name of the new lead'], price: ['number', 'Price of the deal, in the account currency'] },
    parameters: (f) => ({
      name: f('name'),
      additionalFields: { price: f('price') },
      customFields: { mappingMode: 'defineBelow', value: null },
      options: {},
    }),
  },
];

const CASES = {
  get: 'Case get: what is lead {ID} called?',
  create: 'Case create: create a lead "{NAME}" worth 4200 and tell me its name as amoCRM has it.',
  bad: 'Case bad: show me lead 12abc.',
};
const NEW_NAME = `Agent-made lead ${randomUUID().slice(0, 8)}`;

function agentWorkflow({ name, prompt, amoCredential, openAiCredential }) {
  const agent = {
    id: randomUUID(),
    name: 'AI Agent',
    type: '@n8n/n8n-nodes-langchain.agent',
    typeVersion: 3.1,
    position: [600, 0],
    parameters: {
      promptType: 'define',
      text: prompt,
      options: { systemMessage: 'You manage leads in amoCRM with the tools you have.', returnIntermediateSteps: true },
    },
  };
  const manual = { id: randomUUID(), name: 'Manual', type: 'n8n-nodes-base.manualTrigger', typeVersion: 1, position: [0, 0], parameters: {} };
  const wf = {
    name: `AI agent with AmoCRM Lead tools: ${name}`,
    nodes: [manual, agent],
    connections: { Manual: { main: [[{ node: agent.name, type: 'main', index: 0 }]] } },
    settings: { executionOrder: 'v1' },
  };
  wf.nodes.push({
    id: randomUUID(),
    name: 'OpenAI Chat Model',
    type: '@n8n/n8n-nodes-langchain.lmChatOpenAi',
    // 1.2 sends Chat Completions; 1.3 defaults to the Responses API.
    typeVersion: 1.2,
    position: [600, 200],
    parameters: { model: { __rl: true, mode: 'list', value: MOCK_MODEL }, options: {} },
    credentials: { openAiApi: { id: openAiCredential, name: 'Scripted OpenAI' } },
  });
  wf.connections['OpenAI Chat Model'] = { ai_languageModel: [[{ node: agent.name, type: 'ai_languageModel', index: 0 }]] };
  TOOLS.forEach((tool, i) => {
    const f = (key) => fromAI(key, tool.fromAI[key][1], tool.fromAI[key][0]);
    wf.nodes.push({
      id: randomUUID(),
      name: tool.node,
      type: LEAD_TOOL,
      typeVersion: 1,
      position: [800 + 200 * i, 200],
      parameters: { authentication: 'amoCrmKommoApi', operation: tool.operation, ...tool.parameters(f) },
      credentials: { amoCrmKommoApi: { id: amoCredential, name: 'amoCRM' } },
    });
    wf.connections[tool.node] = { ai_tool: [[{ node: agent.name, type: 'ai_tool', index: 0 }]] };
  });
  return wf;
}

const parse = (text) => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};
/** The first lead-shaped object in a tool result (an item list or one item). */
const leadIn = (text) => [parse(text)].flat(2).find((x) => x && typeof x === 'object' && 'id' in x);

/**
 * The scripted model. It reads the case from the user's message and how far
 * the conversation got from the tool results already in it.
 */
function script(body) {
  const messages = body.messages ?? [];
  const user = messages.filter((m) => m.role === 'user').map(messageText).join('\n');
  const results = messages.filter((m) => m.role === 'tool').map(messageText);
  const tools = (body.tools ?? []).map((t) => t.function?.name);
  const call = (node, args) => {
    const name = toolName(node);
    if (!tools.includes(name)) return { content: `SCRIPT: no tool ${name} among ${JSON.stringify(tools)}` };
    return { toolCalls: [{ name, arguments: args }] };
  };
  if (/^Case get:/m.test(user)) {
    if (!results.length) return call('Get Lead', { leadId: user.match(/lead (\d+)/)[1] });
    const lead = leadIn(results[0]);
    return { content: lead ? `Lead ${lead.id} is called "${lead.name}".` : `SCRIPT: no lead in ${results[0]}` };
  }
  if (/^Case create:/m.test(user)) {
    if (!results.length) return call('Create Lead', { name: user.match(/"([^"]+)"/)[1], price: 4200 });
    const created = leadIn(results[0]);
    if (!created) return { content: `SCRIPT: no lead in ${results[0]}` };
    // The create answer carries the new ID; the name is read back with Get.
    if (results.length === 1) return call('Get Lead', { leadId: String(created.id) });
    const lead = leadIn(results[1]);
    return { content: lead ? `Created lead ${lead.id}, named "${lead.name}".` : `SCRIPT: no lead in ${results[1]}` };
  }
  if (/^Case bad:/m.test(user)) {
    if (!results.length) return call('Get Lead', { leadId: '12abc' });
    return { content: `The tool answered: ${results[0]}` };
  }
  return { content: `SCRIPT: unknown case in ${JSON.stringify(user)}` };
}

describe('AmoCRM Lead as an AI Agent tool', { concurrency: 1 }, () => {
  for (const version of VERSIONS) {
    describe(`n8n ${version}`, { concurrency: 1 }, () => {
      /** @type {Amo} */ let amo;
      let n8n;
      let llm;
      let token;
      let lead;
      /** Per case: its execution. */
      const results = {};
      /** Per case: the chat requests of its conversation, in order. */
      const conversations = {};
      /** Per case: the agent's output item. */
      const answers = {};

      before(async () => {
        amo = await emulator({ seed: 'demo' });
        token = await amo.longLivedToken();
        lead = (await amo.api(token, 'GET', '/api/v4/leads?limit=1&page=3')).body._embedded.leads[0];
        llm = await startOpenAiMock({ script });
        n8n = await n8nWithPackage(version);
        const [amoCredential, openAiCredential] = await n8n.importCredentials([
          longLivedCredential(amo, token),
          { name: 'Scripted OpenAI', type: 'openAiApi', data: { apiKey: 'sk-scripted-test-key', url: llm.baseUrl } },
        ]);
        // One workflow, so one agent run, per conversation: n8n's AI Agent
        // (V3, 2.8.4 and 2.40.7) mixes up the tool steps of input items whose
        // conversations take different numbers of tool rounds (it asks the
        // model again for a finished item, with another item's tool call in
        // its history), so the cases do not share one execution.
        const names = Object.keys(CASES);
        const ids = await n8n.importWorkflow(
          names.map((name) =>
            agentWorkflow({
              name,
              prompt: CASES[name].replace('{ID}', String(lead.id)).replace('{NAME}', NEW_NAME),
              amoCredential,
              openAiCredential,
            }),
          ),
        );
        await amo.resetStats();
        const t0 = Date.now();
        // One n8n boot for the three (execute-batch).
        const runs = await n8n.executeMany(ids);
        console.log(`[ai-agent] n8n ${version}: the three agent workflows ran in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
        names.forEach((name, i) => {
          results[name] = runs[ids[i]];
          answers[name] = results[name].runData['AI Agent'] ? results[name].json('AI Agent')[0] : undefined;
        });
        for (const body of llm.chatRequests()) {
          const user = (body.messages ?? []).filter((m) => m.role === 'user').map(messageText).join('\n');
          const name = names.find((c) => new RegExp(`^Case ${c}:`, 'm').test(user)) ?? 'unknown';
          (conversations[name] ??= []).push(body);
        }
      });

      after(async () => {
        await n8n?.cleanup();
        await amo?.close();
        await llm?.close();
      });

      /** The tool results (role "tool" messages) the model saw last in a case. */
      const toolResults = (name) => (conversations[name]?.at(-1)?.messages ?? []).filter((m) => m.role === 'tool').map(messageText);

      test('the model is served through the OpenAI credential\'s base URL, and only Chat Completions are asked for', () => {
        assert.ok(llm.requests.length >= 5, `requests: ${llm.requests.length}`);
        const unserved = llm.requests.filter((r) => r.unhandled || r.failure).map((r) => `${r.method} ${r.path} ${r.failure ?? ''}`);
        assert.deepEqual(unserved, []);
        // Running the agent asks for nothing else (the model list is the editor's picker's).
        assert.deepEqual([...new Set(llm.requests.map((r) => `${r.method} ${r.path}`))], ['POST /v1/chat/completions']);
        assert.ok(llm.requests.every((r) => r.headers.authorization === 'Bearer sk-scripted-test-key'));
      });

      test('tool schemas: one tool per tool node, named after the node, taking exactly its $fromAI parameters', () => {
        const first = llm.chatRequests()[0];
        const tools = Object.fromEntries((first.tools ?? []).map((t) => [t.function.name, t.function]));
        assert.deepEqual(Object.keys(tools).sort(), TOOLS.map((t) => toolName(t.node)).sort());
        for (const t of TOOLS) {
          const schema = tools[toolName(t.node)].parameters;
          assert.equal(schema.type, 'object');
          assert.deepEqual(Object.keys(schema.properties).sort(), Object.keys(t.fromAI).sort(), `${t.node}'s parameters`);
          for (const [key, [type, description]] of Object.entries(t.fromAI)) {
            assert.equal(schema.properties[key].type, type, `${t.node}.${key} type`);
            assert.equal(schema.properties[key].description, description, `${t.node}.${key} description`);
          }
          assert.deepEqual([...(schema.required ?? [])].sort(), Object.keys(t.fromAI).sort(), `${t.node}: every $fromAI parameter is required`);
        }
        // Every conversation offered the same tools.
        for (const body of llm.chatRequests()) assert.deepEqual((body.tools ?? []).map((t) => t.function.name).sort(), Object.keys(tools).sort());
      });

      test('tool descriptions: each is its operation\'s action, which says what it takes and returns (read from the built node)', () => {
        // n8n builds a tool's description as "<action> in <node name>": the
        // action text is what tells the agent what the tool takes and returns.
        const tools = Object.fromEntries((llm.chatRequests()[0].tools ?? []).map((t) => [t.function.name, t.function.description]));
        const wrong = [];
        for (const t of TOOLS) {
          const op = operation(LEAD, t.operation);
          const said = tools[toolName(t.node)] ?? '';
          if (said !== `${op.action} in ${LEAD.displayName}`) wrong.push(`${toolName(t.node)}: n8n sent ${JSON.stringify(said)}, not the action ${JSON.stringify(op.action)}`);
          if (!/\b(by|from|of|to)\b/.test(op.action)) wrong.push(`${op.action}: does not say what it takes`);
          if (!/\breturning\b|\bone item per\b/.test(op.action)) wrong.push(`${op.action}: does not say what it returns`);
        }
        assert.deepEqual(wrong, []);
      });

      test('the agent gets a lead: the model calls the tool with the lead ID, the tool result holds the lead, the answer comes back', async () => {
        expectOk(results.get);
        const turns = conversations.get ?? [];
        assert.equal(turns.length, 2, 'a tool call, then the final answer');
        const asked = turns[1].messages.find((m) => m.role === 'assistant' && m.tool_calls?.length);
        assert.equal(asked.tool_calls[0].function.name, toolName('Get Lead'));
        assert.equal(JSON.parse(asked.tool_calls[0].function.arguments).leadId, String(lead.id));
        const [result] = toolResults('get');
        const got = leadIn(result);
        assert.ok(got, `a lead in the tool result: ${result?.slice(0, 500)}`);
        assert.equal(got.id, lead.id);
        assert.equal(got.name, lead.name);
        assert.ok(Array.isArray(got._embedded?.contacts), 'with its contacts, as the tool node asks');
        assert.equal(answers.get?.output, `Lead ${lead.id} is called "${lead.name}".`);
        const reqs = await amo.requests({ route: 'GET /api/v4/leads/{id}' });
        assert.ok(reqs.some((r) => r.path === `/api/v4/leads/${lead.id}`), 'the tool asked amoCRM for the lead');
      });

      test('the agent creates a lead and reads its name back from the tool result', async () => {
        expectOk(results.create);
        const turns = conversations.create ?? [];
        assert.equal(turns.length, 3, 'create, read back, answer');
        const [createdText, readText] = toolResults('create');
        const created = leadIn(createdText);
        assert.ok(created?.id, `the create result carries the new lead's ID: ${createdText?.slice(0, 500)}`);
        const read = leadIn(readText);
        assert.equal(read?.name, NEW_NAME, `the read-back result: ${readText?.slice(0, 500)}`);
        assert.equal(read.price, 4200);
        assert.equal(answers.create?.output, `Created lead ${created.id}, named "${NEW_NAME}".`);
        const stored = await amo.api(token, 'GET', `/api/v4/leads/${created.id}`);
        assert.equal(stored.body.name, NEW_NAME);
        assert.equal(stored.body.price, 4200);
        assert.equal((await amo.stats()).leadsCreated, 1, 'exactly one lead created');
      });

      test('a bad lead ID gives the agent a clear error string, not a crash', async () => {
        // The workflow goes on: the tool's error is the model's to read.
        assert.ok(results.bad.ok, `the agent's workflow failed: ${results.bad.describe()}`);
        // (n8n 2.40.7 records the error on the tool node's own run, and goes on.)
        assert.equal(results.bad.nodeError('AI Agent'), null, 'the agent did not fail');
        const turns = conversations.bad ?? [];
        assert.equal(turns.length, 2, 'the tool call, then the final answer');
        const [result] = toolResults('bad');
        assert.equal(typeof result, 'string');
        // n8n hands a tool's failure to the model as [{"error": "<message>"}].
        const message = [parse(result)].flat().find((x) => x?.error)?.error ?? result;
        assert.match(message, /"12abc" is not a lead ID/, `the node's own message reaches the model: ${result}`);
        assert.doesNotMatch(result, /\bat [\w.<>]+ \(|node_modules|\[object Object\]/, 'no stack trace, no object dump');
        assert.equal(answers.bad?.output, `The tool answered: ${result}`);
        const reqs = await amo.requests({});
        assert.ok(!reqs.some((r) => r.path.includes('12abc')), 'nothing was sent to amoCRM for it');
      });
    });
  }
});
