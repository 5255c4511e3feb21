// A scripted OpenAI-compatible HTTP server on 127.0.0.1 for tests of n8n's AI
// nodes: no model, no network. It answers the calls n8n's OpenAI Chat Model
// node makes (Chat Completions, streamed or not; the model list its model
// picker asks for) with whatever a test's `script` returns for a request, and
// records every request (method, path, headers, body: the messages and the
// tool schemas n8n sent).
//
//   const llm = await startOpenAiMock({ script: (body) => ({ toolCalls: [{ name, arguments }] }) });
//   credential data: { apiKey: 'sk-test', url: llm.baseUrl }   // http://127.0.0.1:PORT/v1
//   llm.requests          every request, in order
//   llm.chatRequests()    bodies of the chat completion requests
//   await llm.close();
//
// `script(body, request)` gets the parsed request body and returns one of
//   { content: 'text' }                               a final assistant message
//   { toolCalls: [{ name, arguments: {…} }, …] }      the model calls tools
//   { status: 400, error: 'message' }                 an API error
// A script that throws gets a 500 with its message (and the test sees it in
// the recorded requests as `failure`).

import http from 'node:http';

export const MOCK_MODEL = 'gpt-mock-1';

let seq = 0;
const id = (prefix) => `${prefix}-${Date.now().toString(36)}${(++seq).toString(36)}`;

function usage() {
  return { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 };
}

function completion(body, reply) {
  const message = { role: 'assistant', content: reply.content ?? null };
  if (reply.toolCalls?.length) {
    message.tool_calls = reply.toolCalls.map((c) => ({
      id: c.id ?? id('call'),
      type: 'function',
      function: { name: c.name, arguments: typeof c.arguments === 'string' ? c.arguments : JSON.stringify(c.arguments ?? {}) },
    }));
  }
  return {
    id: id('chatcmpl'),
    object: 'chat.completion',
    created: Math.floor(Date.now() / 1000),
    model: body.model ?? MOCK_MODEL,
    choices: [{ index: 0, message, logprobs: null, finish_reason: message.tool_calls ? 'tool_calls' : 'stop' }],
    usage: usage(),
  };
}

/** The same answer as server-sent events (`stream: true`), as OpenAI chunks it. */
function chunks(body, reply) {
  const full = completion(body, reply);
  const base = { id: full.id, object: 'chat.completion.chunk', created: full.created, model: full.model };
  const msg = full.choices[0].message;
  const out = [{ ...base, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] }];
  if (msg.content) out.push({ ...base, choices: [{ index: 0, delta: { content: msg.content }, finish_reason: null }] });
  (msg.tool_calls ?? []).forEach((c, index) =>
    out.push({ ...base, choices: [{ index: 0, delta: { tool_calls: [{ index, ...c }] }, finish_reason: null }] }),
  );
  out.push({ ...base, choices: [{ index: 0, delta: {}, finish_reason: full.choices[0].finish_reason }] });
  if (body.stream_options?.include_usage) out.push({ ...base, choices: [], usage: usage() });
  return out;
}

function send(res, status, value) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(value));
}

export async function startOpenAiMock({ script, models = [MOCK_MODEL] } = {}) {
  if (typeof script !== 'function') throw new Error('startOpenAiMock: script(body) is required');
  const requests = [];
  const server = http.createServer((req, res) => {
    let raw = '';
    req.setEncoding('utf8');
    req.on('data', (d) => (raw += d));
    req.on('end', async () => {
      let body;
      try {
        body = raw ? JSON.parse(raw) : undefined;
      } catch {
        body = raw;
      }
      const url = new URL(req.url, 'http://127.0.0.1');
      const record = { method: req.method, path: url.pathname, headers: req.headers, body, at: Date.now() };
      requests.push(record);
      const p = url.pathname.replace(/^\/v1(?=\/)/, '');
      try {
        if (req.method === 'GET' && p === '/models') {
          return send(res, 200, {
            object: 'list',
            data: models.map((m) => ({ id: m, object: 'model', created: 1700000000, owned_by: 'mock' })),
          });
        }
        if (req.method === 'GET' && p.startsWith('/models/')) {
          return send(res, 200, { id: decodeURIComponent(p.slice(8)), object: 'model', created: 1700000000, owned_by: 'mock' });
        }
        if (req.method === 'POST' && p === '/chat/completions') {
          const reply = await script(body, record);
          record.reply = reply;
          if (reply?.status) {
            return send(res, reply.status, { error: { message: reply.error ?? 'mock error', type: 'invalid_request_error' } });
          }
          if (body?.stream) {
            res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
            for (const c of chunks(body, reply)) res.write(`data: ${JSON.stringify(c)}\n\n`);
            res.end('data: [DONE]\n\n');
            return;
          }
          return send(res, 200, completion(body, reply));
        }
        record.unhandled = true;
        send(res, 404, { error: { message: `the mock does not serve ${req.method} ${url.pathname}`, type: 'not_found' } });
      } catch (error) {
        record.failure = error.stack ?? String(error);
        send(res, 500, { error: { message: `mock script failed: ${error.message}`, type: 'server_error' } });
      }
    });
  });
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address();
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    baseUrl: `${url}/v1`,
    port,
    requests,
    chatRequests: () => requests.filter((r) => r.path.endsWith('/chat/completions')).map((r) => r.body),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
  };
}

/** Text of a chat message's content (a string, or OpenAI's list of parts). */
export function messageText(message) {
  const c = message?.content;
  if (typeof c === 'string') return c;
  if (Array.isArray(c)) return c.map((p) => (typeof p === 'string' ? p : (p.text ?? ''))).join('');
  return '';
}
