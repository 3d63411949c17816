/**
 * A stub of the OpenAI Chat Completions REST API on loopback (what Ollama, vLLM, LM
 * Studio, OpenRouter and LiteLLM serve too), shared by every suite that runs a model
 * through the `openai` SDK. `POST {baseUrl}/chat/completions`: with `stream: true`,
 * Server-Sent Events `data: {…chat.completion.chunk…}` ending with `data: [DONE]`; without,
 * one `chat.completion`; errors as the API sends them (`{"error":{"message","type","param","code"}}`,
 * `retry-after` on 429).
 *
 * Its scenarios and requests have the shape of the Gemini stub's, so a suite can run
 * against either: `contents` is the conversation in the seam's terms (`user`/`model`).
 *
 *   const stub = await startOpenAiStub();
 *   // OPENAI_BASE_URL = stub.baseUrl
 *   stub.enqueue({ kind: 'http-error', status: 429, retryAfter: '7' });
 */
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { echoPieces } from './gemini-stub.js';

export type OpenAiFinishReason = 'stop' | 'length' | 'content_filter' | 'tool_calls' | (string & {});

export interface OpenAiStubPacing {
  /** Delay before the response headers. Default 0. */
  initialDelayMs?: number;
  /** Delay between two SSE events. Default 0. */
  delayMs?: number;
}

/** The default: `echo: <last user text>` in pieces of a few words, finish `stop`. */
export interface OpenAiEchoScenario extends OpenAiStubPacing {
  kind: 'echo';
}

export interface OpenAiTextScenario extends OpenAiStubPacing {
  kind: 'text';
  pieces: string[];
  /** Default `stop`; null ends the stream with `[DONE]` but no finish reason. */
  finishReason?: OpenAiFinishReason | null;
  /** `delta.reasoning_content` chunks streamed before the pieces (DeepSeek, vLLM, LM Studio). */
  reasoning?: string[];
}

/** An HTTP error with the API's error body. */
export interface OpenAiHttpErrorScenario extends Pick<OpenAiStubPacing, 'initialDelayMs'> {
  kind: 'http-error';
  status: number;
  /** The `retry-after` header (seconds, or an HTTP date). */
  retryAfter?: string;
  message?: string;
}

/** `afterPieces` pieces, then `data: {"error":{…}}` inside the 200 stream, then the stream ends. */
export interface OpenAiStreamErrorScenario extends OpenAiStubPacing {
  kind: 'stream-error';
  afterPieces: number;
  pieces?: string[];
  /** The error's `code`. Default 500. */
  status?: number;
}

/** `afterPieces` pieces, then the socket is destroyed. */
export interface OpenAiCutScenario extends OpenAiStubPacing {
  kind: 'cut';
  afterPieces: number;
  pieces?: string[];
  /** Also write the first half of one more event before cutting. */
  partialEvent?: boolean;
}

/** `afterPieces` pieces, then nothing until the client aborts or the stub closes. */
export interface OpenAiSilenceScenario extends OpenAiStubPacing {
  kind: 'silence';
  afterPieces: number;
  pieces?: string[];
}

/** Streams `pieces`, waits for `stub.release()`, then streams `rest` and finishes. */
export interface OpenAiHoldScenario extends OpenAiStubPacing {
  kind: 'hold';
  pieces?: string[];
  rest?: string[];
  finishReason?: OpenAiFinishReason;
}

export type OpenAiStubScenario =
  | OpenAiEchoScenario
  | OpenAiTextScenario
  | OpenAiHttpErrorScenario
  | OpenAiStreamErrorScenario
  | OpenAiCutScenario
  | OpenAiSilenceScenario
  | OpenAiHoldScenario;

export type OpenAiStubScenarioSource = OpenAiStubScenario | ((request: OpenAiStubRequest) => OpenAiStubScenario);

/** As the Gemini stub's: `completed`, `aborted` (by the client), `cut` (scenario), `closed` (`stub.close()`). */
export type OpenAiStubOutcome = 'completed' | 'aborted' | 'cut' | 'closed';

export interface OpenAiStubRequest {
  index: number;
  method: string;
  url: string;
  /** `body.model`. */
  model: string | undefined;
  /** The bearer token of `Authorization` (undefined when absent). */
  apiKey: string | undefined;
  headers: IncomingHttpHeaders;
  body: Record<string, unknown> | undefined;
  /** `body.messages` as role and text. */
  messages: { role: string; text: string }[];
  /** The non-system messages in the seam's terms: `assistant` reads as `model`. */
  contents: { role: string; text: string }[];
  /** The text of the `system` message, if any. */
  systemInstruction: string | undefined;
  lastUserText: string;
  /** `body.stream === true`. */
  streamed: boolean;
  scenario: OpenAiStubScenario | undefined;
  outcomeValue: OpenAiStubOutcome | undefined;
  outcome: Promise<OpenAiStubOutcome>;
  readonly aborted: boolean;
}

export interface OpenAiStubOptions {
  host?: string;
  port?: number;
  /** When set, a request with another bearer token gets the API's 401 `invalid_api_key`. */
  requireApiKey?: string;
  defaultScenario?: OpenAiStubScenarioSource;
}

export interface OpenAiStub {
  /** `http://127.0.0.1:<port>/v1`: what `OPENAI_BASE_URL` takes. */
  readonly baseUrl: string;
  readonly port: number;
  readonly requests: readonly OpenAiStubRequest[];
  readonly aborted: number;
  readonly open: number;
  setScenario(scenario: OpenAiStubScenarioSource | null): void;
  enqueue(...scenarios: OpenAiStubScenario[]): void;
  waitForRequest(timeoutMs?: number): Promise<OpenAiStubRequest>;
  release(): number;
  reset(): void;
  close(): Promise<void>;
}

const ERROR_TYPES: Record<number, { type: string; code: string | null; message: string }> = {
  400: { type: 'invalid_request_error', code: null, message: 'Invalid request.' },
  401: { type: 'invalid_request_error', code: 'invalid_api_key', message: 'Incorrect API key provided.' },
  403: { type: 'invalid_request_error', code: 'unsupported_country_region_territory', message: 'Country, region, or territory not supported' },
  404: { type: 'invalid_request_error', code: 'model_not_found', message: 'The model does not exist or you do not have access to it.' },
  429: { type: 'requests', code: 'rate_limit_exceeded', message: 'Rate limit reached for requests. Please try again later.' },
  500: { type: 'server_error', code: null, message: 'The server had an error while processing your request. Sorry about that!' },
  503: { type: 'server_error', code: null, message: 'The engine is currently overloaded, please try again later' },
};

/** The API's error body. */
export function openAiErrorBody(status: number, message?: string): { error: { message: string; type: string; param: null; code: string | null } } {
  const known = ERROR_TYPES[status] ?? { type: status >= 500 ? 'server_error' : 'invalid_request_error', code: null, message: `HTTP ${status}` };
  return { error: { message: message ?? known.message, type: known.type, param: null, code: known.code } };
}

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content.map((p) => (p !== null && typeof p === 'object' && typeof (p as { text?: unknown }).text === 'string' ? (p as { text: string }).text : '')).join('');
}

function fillerPieces(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `piece ${i + 1}. `);
}

function sleep(ms: number): Promise<void> {
  return ms > 0 ? new Promise((r) => setTimeout(r, ms)) : new Promise((r) => setImmediate(r));
}

const tokens = (text: string) => Math.ceil(text.length / 4);

export async function startOpenAiStub(options: OpenAiStubOptions = {}): Promise<OpenAiStub> {
  const host = options.host ?? '127.0.0.1';
  const defaultSource: OpenAiStubScenarioSource = options.defaultScenario ?? { kind: 'echo' };
  const requests: OpenAiStubRequest[] = [];
  const queue: OpenAiStubScenario[] = [];
  let scenarioSource = defaultSource;
  let waitCursor = 0;
  let waiters: (() => void)[] = [];
  let holds: (() => void)[] = [];
  const open = new Map<ServerResponse, (outcome: OpenAiStubOutcome) => void>();
  let closing = false;

  const server = createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  server.requestTimeout = 0;
  server.headersTimeout = 0;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    let body: Record<string, unknown> | undefined;
    try {
      const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) body = parsed as Record<string, unknown>;
    } catch {
      body = undefined;
    }
    const url = req.url ?? '/';
    const served = req.method === 'POST' && url.split('?')[0] === '/v1/chat/completions';
    const auth = req.headers.authorization;
    const messages = (Array.isArray(body?.messages) ? (body.messages as unknown[]) : []).map((m) => {
      const { role, content } = (m ?? {}) as { role?: unknown; content?: unknown };
      return { role: typeof role === 'string' ? role : '', text: textOf(content) };
    });
    const contents = messages.filter((m) => m.role !== 'system').map((m) => ({ role: m.role === 'assistant' ? 'model' : m.role, text: m.text }));
    const model = typeof body?.model === 'string' ? body.model : undefined;

    let settle!: (outcome: OpenAiStubOutcome) => void;
    const record: OpenAiStubRequest = {
      index: requests.length,
      method: req.method ?? '',
      url,
      model,
      apiKey: auth?.startsWith('Bearer ') ? auth.slice('Bearer '.length) : undefined,
      headers: req.headers,
      body,
      messages,
      contents,
      systemInstruction: messages.find((m) => m.role === 'system')?.text,
      lastUserText: contents.findLast((c) => c.role === 'user')?.text ?? '',
      streamed: body?.stream === true,
      scenario: undefined,
      outcomeValue: undefined,
      outcome: new Promise<OpenAiStubOutcome>((resolve) => (settle = resolve)),
      get aborted() {
        return this.outcomeValue === 'aborted';
      },
    };
    requests.push(record);
    const wake = waiters;
    waiters = [];
    for (const w of wake) w();

    let ending: OpenAiStubOutcome | undefined;
    open.set(res, (outcome) => (ending = outcome));
    res.on('close', () => {
      open.delete(res);
      record.outcomeValue = res.writableFinished ? 'completed' : (ending ?? 'aborted');
      settle(record.outcomeValue);
    });
    const gone = () => res.destroyed || closing;
    const sendJson = (status: number, json: unknown, headers: Record<string, string> = {}) => {
      const text = JSON.stringify(json);
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
      res.end(text);
    };

    if (!served) {
      sendJson(404, openAiErrorBody(404, `Unknown request URL: ${req.method ?? ''} ${url}`));
      return;
    }
    if (options.requireApiKey !== undefined && record.apiKey !== options.requireApiKey) {
      sendJson(401, openAiErrorBody(401));
      return;
    }
    if (body === undefined || messages.length === 0) {
      sendJson(400, openAiErrorBody(400, "'messages' is a required property"));
      return;
    }

    const scenario = queue.shift() ?? (typeof scenarioSource === 'function' ? scenarioSource(record) : scenarioSource);
    record.scenario = scenario;
    await sleep(scenario.initialDelayMs ?? 0);
    if (gone()) return;

    if (scenario.kind === 'http-error') {
      sendJson(scenario.status, openAiErrorBody(scenario.status, scenario.message), scenario.retryAfter === undefined ? {} : { 'retry-after': scenario.retryAfter });
      return;
    }

    const id = `chatcmpl-stub${record.index}`;
    const created = Math.floor(Date.now() / 1000);
    const promptTokens = Math.max(1, tokens(messages.map((m) => m.text).join('')));
    const usage = (text: string) => ({ prompt_tokens: promptTokens, completion_tokens: tokens(text), total_tokens: promptTokens + tokens(text) });

    if (!record.streamed) {
      // One-shot: the scenarios that answer give their whole text at once.
      const pieces = scenario.kind === 'echo' ? echoPieces(record.lastUserText) : scenario.kind === 'text' ? scenario.pieces : null;
      if (pieces === null) {
        sendJson(500, openAiErrorBody(500));
        return;
      }
      const text = pieces.join('');
      const finish = scenario.kind === 'text' ? (scenario.finishReason ?? 'stop') : 'stop';
      sendJson(200, {
        id,
        object: 'chat.completion',
        created,
        model,
        choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: finish, logprobs: null }],
        usage: usage(text),
      }); return;
    }

    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', connection: 'keep-alive' });
    res.flushHeaders();
    const includeUsage = (body.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true;
    let streamedText = '';
    let sent = 0;
    const delay = scenario.delayMs ?? 0;
    const write = (data: string) => res.write(`data: ${data}\n\n`);
    const chunk = (delta: Record<string, unknown>, finishReason: string | null = null) =>
      JSON.stringify({ id, object: 'chat.completion.chunk', created, model, system_fingerprint: null, choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }] });
    /** Sends the deltas `delay` apart; false once the response is gone. */
    const send = async (deltas: Record<string, unknown>[]) => {
      for (const delta of deltas) {
        if (sent > 0) await sleep(delay);
        if (gone()) return false;
        if (typeof delta.content === 'string') streamedText += delta.content;
        write(chunk(sent === 0 ? { role: 'assistant', ...delta } : delta));
        sent++;
      }
      return !gone();
    };
    const finish = async (finishReason: string | null) => {
      if (sent > 0) await sleep(delay);
      if (gone()) return;
      if (finishReason !== null) write(chunk({}, finishReason));
      if (includeUsage) write(JSON.stringify({ id, object: 'chat.completion.chunk', created, model, choices: [], usage: usage(streamedText) }));
      write('[DONE]');
      res.end();
    };
    const content = (pieces: string[]) => pieces.map((text) => ({ content: text }));
    const leading = (s: { afterPieces: number; pieces?: string[] }) => content((s.pieces ?? fillerPieces(s.afterPieces)).slice(0, s.afterPieces));

    switch (scenario.kind) {
      case 'echo':
        if (await send(content(echoPieces(record.lastUserText)))) await finish('stop');
        return;
      case 'text': {
        const reasoning = (scenario.reasoning ?? []).map((text) => ({ content: null, reasoning_content: text }));
        if (await send([...reasoning, ...content(scenario.pieces)])) await finish(scenario.finishReason === undefined ? 'stop' : scenario.finishReason);
        return;
      }
      case 'stream-error':
        if (!(await send(leading(scenario)))) return;
        if (sent > 0) await sleep(delay);
        if (gone()) return;
        write(JSON.stringify(openAiErrorBody(scenario.status ?? 500)));
        res.end();
        return;
      case 'cut':
        if (!(await send(leading(scenario)))) return;
        if (sent > 0) await sleep(delay);
        if (gone()) return;
        if (scenario.partialEvent) {
          res.write('data: {"id":"chatcmpl-cut","object":"chat.completion.chunk","choices":[{"delta":{"content":"never fini');
          await sleep(20);
        }
        ending = 'cut';
        res.destroy();
        return;
      case 'silence':
        await send(leading(scenario));
        return;
      case 'hold':
        if (!(await send(content(scenario.pieces ?? ['held '])))) return;
        await new Promise<void>((resolve) => {
          holds.push(resolve);
          res.once('close', () => resolve());
        });
        if (gone()) return;
        if (await send(content(scenario.rest ?? ['released']))) await finish(scenario.finishReason ?? 'stop');
        return;
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;

  return {
    baseUrl: `http://${host.includes(':') ? `[${host}]` : host}:${port}/v1`,
    port,
    get requests() {
      return requests;
    },
    get aborted() {
      return requests.filter((r) => r.outcomeValue === 'aborted').length;
    },
    get open() {
      return open.size;
    },
    setScenario(scenario) {
      scenarioSource = scenario ?? defaultSource;
    },
    enqueue(...scenarios) {
      queue.push(...scenarios);
    },
    waitForRequest(timeoutMs = 5000) {
      return new Promise<OpenAiStubRequest>((resolve, reject) => {
        const onRequest = () => {
          const next = requests[waitCursor];
          if (next === undefined) return void waiters.push(onRequest);
          waitCursor++;
          clearTimeout(timer);
          resolve(next);
        };
        const timer = setTimeout(() => {
          waiters = waiters.filter((w) => w !== onRequest);
          reject(new Error(`openai stub: no request within ${timeoutMs} ms`));
        }, timeoutMs);
        onRequest();
      });
    },
    release() {
      const released = holds;
      holds = [];
      for (const resolve of released) resolve();
      return released.length;
    },
    reset() {
      requests.length = 0;
      queue.length = 0;
      waitCursor = 0;
      scenarioSource = defaultSource;
    },
    async close() {
      if (closing) return;
      closing = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const [res, markEnding] of open) {
        markEnding('closed');
        res.destroy();
      }
      for (const resolve of holds) resolve();
      holds = [];
      server.closeAllConnections();
      await closed;
    },
  };
}
