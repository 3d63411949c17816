/**
 * A stub of the Gemini REST API on loopback, shared by every suite of the project
 * (server tests, browser tests, benchmarks, soak). It speaks what `@google/genai`
 * expects from `POST /v1beta/models/{model}:streamGenerateContent?alt=sse`: Server-Sent
 * Events of `GenerateContentResponse` JSON, and the API's own error bodies
 * (`{"error":{"code","message","status","details"}}`).
 *
 *   const stub = await startGeminiStub();
 *   // GEMINI_BASE_URL = stub.baseUrl
 *   stub.enqueue({ kind: 'http-error', status: 429, retryDelay: '7s' });
 *   const req = await stub.waitForRequest();
 *   expect(await req.outcome).toBe('completed');
 *   await stub.close();
 */
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

// ---- scenarios --------------------------------------------------------------------

/** Finish reasons the API sends (any other string is passed through as is). */
export type GeminiFinishReason =
  | 'STOP'
  | 'MAX_TOKENS'
  | 'SAFETY'
  | 'RECITATION'
  | 'LANGUAGE'
  | 'OTHER'
  | 'BLOCKLIST'
  | 'PROHIBITED_CONTENT'
  | 'SPII'
  | 'MALFORMED_FUNCTION_CALL'
  | 'IMAGE_SAFETY'
  | (string & {});

/** Pacing shared by the streaming scenarios. */
export interface StubPacing {
  /** Delay before the response headers (time to first byte). Default 0. */
  initialDelayMs?: number;
  /** Delay between two SSE events. Default 0. */
  delayMs?: number;
}

/** The default: `echo: <last user text>`, in pieces of a few words, finish STOP. */
export interface EchoScenario extends StubPacing {
  kind: 'echo';
}

/** A streamed answer made of `pieces`, one SSE event each. */
export interface TextScenario extends StubPacing {
  kind: 'text';
  pieces: string[];
  /**
   * Sent with the last piece (STOP, MAX_TOKENS) or in an event of its own (the others).
   * Default STOP; null ends the stream cleanly without one (what a truncating proxy yields).
   */
  finishReason?: GeminiFinishReason | null;
  /** Sends only `promptFeedback.blockReason` (e.g. `SAFETY`) with HTTP 200, as the API does for a blocked prompt; `pieces` are ignored. */
  promptBlocked?: string;
  /** Thought parts (`thought: true`) streamed before the pieces; the last one shares an event with the first piece. */
  thoughts?: string[];
}

/** An HTTP error with the API's JSON error body (also on the streaming endpoint). */
export interface HttpErrorScenario extends Pick<StubPacing, 'initialDelayMs'> {
  kind: 'http-error';
  status: number;
  /** 429: adds a `google.rpc.RetryInfo` detail with this `retryDelay` (e.g. `7s`, `1.5s`). */
  retryDelay?: string;
  /** Replaces the API's usual message for this status. */
  message?: string;
  /**
   * Send the JSON body as `text/plain`, as some proxies and the API itself on some
   * paths do: the SDK then nests the body, as a string, in `error.message`.
   */
  asText?: boolean;
}

/** `afterPieces` pieces, then an error object inside the stream, then the stream ends. */
export interface StreamErrorScenario extends StubPacing {
  kind: 'stream-error';
  afterPieces: number;
  /** The error's `code`. Default 500 (`INTERNAL`). */
  status?: number;
  pieces?: string[];
}

/** `afterPieces` pieces, then the socket is destroyed (no terminating chunk). */
export interface CutScenario extends StubPacing {
  kind: 'cut';
  afterPieces: number;
  pieces?: string[];
  /** Also write the first half of one more SSE event before cutting (a truncated event). */
  partialEvent?: boolean;
}

/** `afterPieces` pieces, then nothing, connection held open until the client aborts or the stub closes. */
export interface SilenceScenario extends StubPacing {
  kind: 'silence';
  afterPieces: number;
  pieces?: string[];
}

/**
 * Streams `pieces`, then waits for `stub.release()` (or the client's abort, or
 * `stub.close()`), then streams `rest` and finishes: keeps a turn streaming for as long
 * as a test needs.
 */
export interface HoldScenario extends StubPacing {
  kind: 'hold';
  /** Default `['held ']`. */
  pieces?: string[];
  /** Default `['released']`. */
  rest?: string[];
  finishReason?: GeminiFinishReason;
}

export type GeminiStubScenario =
  | EchoScenario
  | TextScenario
  | HttpErrorScenario
  | StreamErrorScenario
  | CutScenario
  | SilenceScenario
  | HoldScenario;

/** A scenario, or a function choosing one from the request (for suites with many concurrent chats). */
export type GeminiStubScenarioSource = GeminiStubScenario | ((request: GeminiStubRequest) => GeminiStubScenario);

// ---- requests ---------------------------------------------------------------------

/**
 * How the stub's response to a request ended: `completed` (the response ended
 * normally), `aborted` (the client closed the connection first), `cut` (the stub
 * destroyed it: scenario `cut`), `closed` (`stub.close()` ended it).
 */
export type GeminiStubOutcome = 'completed' | 'aborted' | 'cut' | 'closed';

export interface GeminiStubContent {
  role: string;
  parts: { text?: string; thought?: boolean; [key: string]: unknown }[];
}

/** The JSON body the SDK sends (only the fields the stub reads are typed). */
export interface GeminiRequestBody {
  contents?: GeminiStubContent[];
  systemInstruction?: { role?: string; parts?: { text?: string }[] };
  generationConfig?: Record<string, unknown>;
  [key: string]: unknown;
}

export interface GeminiStubRequest {
  /** 0-based arrival order. */
  index: number;
  method: string;
  /** Path and query as received, e.g. `/v1beta/models/m:streamGenerateContent?alt=sse`. */
  url: string;
  /** The `{model}` of the path; undefined on a path the stub does not serve. */
  model: string | undefined;
  /** The `x-goog-api-key` header value (undefined when absent). */
  apiKey: string | undefined;
  headers: IncomingHttpHeaders;
  /** The parsed JSON body (undefined when not JSON). */
  body: GeminiRequestBody | undefined;
  /** `body.contents` flattened: role and the concatenated text of its parts. */
  contents: { role: string; text: string }[];
  /** The text of `body.systemInstruction`, if any. */
  systemInstruction: string | undefined;
  /** The text of the last `user` content ('' when none). */
  lastUserText: string;
  /** The scenario that answered it (undefined for a refused path or key). */
  scenario: GeminiStubScenario | undefined;
  /** Set once the response ended, however it ended. */
  outcomeValue: GeminiStubOutcome | undefined;
  /** Resolves when the response ended. */
  outcome: Promise<GeminiStubOutcome>;
  /** True once the client closed the connection before the response ended. */
  readonly aborted: boolean;
}

export interface GeminiStubOptions {
  /** Loopback address to listen on. Default `127.0.0.1`. */
  host?: string;
  /** Port. Default 0 (a free one). */
  port?: number;
  /** When set, a request whose `x-goog-api-key` differs gets the API's 400 `API_KEY_INVALID`. */
  requireApiKey?: string;
  /** The scenario used when the queue is empty. Default `{ kind: 'echo' }`. */
  defaultScenario?: GeminiStubScenarioSource;
}

export interface GeminiStub {
  /** `http://127.0.0.1:<port>`: what `GEMINI_BASE_URL` / `httpOptions.baseUrl` take. */
  readonly baseUrl: string;
  readonly port: number;
  /** Every request received, in order (including refused ones). */
  readonly requests: readonly GeminiStubRequest[];
  /** How many responses the client aborted. */
  readonly aborted: number;
  /** How many responses are still open (streaming, silent or held). */
  readonly open: number;
  /** The scenario used when the queue is empty (null: back to the echo default). */
  setScenario(scenario: GeminiStubScenarioSource | null): void;
  /** Scenarios consumed one per request, before the default. */
  enqueue(...scenarios: GeminiStubScenario[]): void;
  /**
   * The next request not yet returned by this method (immediately when one already
   * arrived). Rejects after `timeoutMs` (default 5000).
   */
  waitForRequest(timeoutMs?: number): Promise<GeminiStubRequest>;
  /** Lets every request held by a `hold` scenario continue; returns how many were released. */
  release(): number;
  /** Forgets requests, queue and scenario (the open responses keep running). */
  reset(): void;
  /** Ends every open response (outcome `closed`) and stops listening. */
  close(): Promise<void>;
}

// ---- the API's shapes ---------------------------------------------------------------

const STATUS_NAMES: Record<number, string> = {
  400: 'INVALID_ARGUMENT',
  401: 'UNAUTHENTICATED',
  403: 'PERMISSION_DENIED',
  404: 'NOT_FOUND',
  408: 'DEADLINE_EXCEEDED',
  409: 'ABORTED',
  413: 'INVALID_ARGUMENT',
  429: 'RESOURCE_EXHAUSTED',
  499: 'CANCELLED',
  500: 'INTERNAL',
  501: 'UNIMPLEMENTED',
  503: 'UNAVAILABLE',
  504: 'DEADLINE_EXCEEDED',
};

function defaultErrorMessage(status: number, model: string | undefined): string {
  switch (status) {
    case 400:
      return 'Request contains an invalid argument.';
    case 403:
      return 'The caller does not have permission';
    case 404:
      return `models/${model ?? 'unknown'} is not found for API version v1beta, or is not supported for generateContent. Call ListModels to see the list of available models and their supported methods.`;
    case 429:
      return 'You exceeded your current quota, please check your plan and billing details. For more information on this error, head to: https://ai.google.dev/gemini-api/docs/rate-limits.';
    case 500:
      return 'An internal error has occurred. Please retry or report in https://developers.generativeai.google/guide/troubleshooting';
    case 503:
      return 'The model is overloaded. Please try again later.';
    case 504:
      return 'Deadline expired before operation could complete.';
    default:
      return `HTTP ${status}`;
  }
}

/** The API's error body: `{"error":{"code","message","status","details"?}}`. */
export function geminiErrorBody(
  status: number,
  options: { message?: string; retryDelay?: string; model?: string; details?: unknown[] } = {},
): { error: { code: number; message: string; status: string; details?: unknown[] } } {
  const details: unknown[] = [...(options.details ?? [])];
  if (status === 429) {
    details.push(
      {
        '@type': 'type.googleapis.com/google.rpc.QuotaFailure',
        violations: [
          {
            quotaMetric: 'generativelanguage.googleapis.com/generate_content_free_tier_requests',
            quotaId: 'GenerateRequestsPerMinutePerProjectPerModel-FreeTier',
            quotaDimensions: { location: 'global', model: options.model ?? 'unknown' },
            quotaValue: '10',
          },
        ],
      },
      {
        '@type': 'type.googleapis.com/google.rpc.Help',
        links: [{ description: 'Learn more about Gemini API quotas', url: 'https://ai.google.dev/gemini-api/docs/rate-limits' }],
      },
    );
    if (options.retryDelay !== undefined) {
      details.push({ '@type': 'type.googleapis.com/google.rpc.RetryInfo', retryDelay: options.retryDelay });
    }
  }
  return {
    error: {
      code: status,
      message: options.message ?? defaultErrorMessage(status, options.model),
      status: STATUS_NAMES[status] ?? (status >= 500 ? 'INTERNAL' : 'FAILED_PRECONDITION'),
      ...(details.length > 0 ? { details } : {}),
    },
  };
}

const SAFETY_RATINGS_BLOCKED = [
  { category: 'HARM_CATEGORY_SEXUALLY_EXPLICIT', probability: 'NEGLIGIBLE' },
  { category: 'HARM_CATEGORY_HATE_SPEECH', probability: 'NEGLIGIBLE' },
  { category: 'HARM_CATEGORY_HARASSMENT', probability: 'NEGLIGIBLE' },
  { category: 'HARM_CATEGORY_DANGEROUS_CONTENT', probability: 'HIGH', blocked: true },
];

// ---- helpers ------------------------------------------------------------------------

const PATH_RE = /^\/v1beta\/models\/([^/:?]+):streamGenerateContent$/;

function textOf(parts: unknown): string {
  if (!Array.isArray(parts)) return '';
  return parts
    .map((p) => (p !== null && typeof p === 'object' && typeof (p as { text?: unknown }).text === 'string' ? (p as { text: string }).text : ''))
    .join('');
}

/** One content of a request as its role and text; anything malformed reads as empty. */
function flatContent(content: unknown): { role: string; text: string } {
  if (content === null || typeof content !== 'object') return { role: '', text: '' };
  const { role, parts } = content as { role?: unknown; parts?: unknown };
  return { role: typeof role === 'string' ? role : '', text: textOf(parts) };
}

/** `echo: <text>` in pieces of three words, concatenating back to exactly that string. */
export function echoPieces(lastUserText: string): string[] {
  const full = `echo: ${lastUserText}`;
  const words = full.match(/^\s+|\S+\s*/g) ?? [full];
  const pieces: string[] = [];
  for (let i = 0; i < words.length; i += 3) pieces.push(words.slice(i, i + 3).join(''));
  return pieces;
}

/** `piece 1. `, `piece 2. `, …: the filler of the failure scenarios. */
function fillerPieces(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `piece ${i + 1}. `);
}

function sleep(ms: number): Promise<void> {
  return ms > 0 ? new Promise((r) => setTimeout(r, ms)) : new Promise((r) => setImmediate(r));
}

/** Finish reasons the API sends together with the last text; the others come in an event of their own. */
const INLINE_FINISH = new Set(['STOP', 'MAX_TOKENS']);

interface Part {
  text: string;
  thought?: boolean;
}

/** The candidate events of a streamed answer: thoughts, pieces, then the finish (if any). */
function answerEvents(pieces: string[], finishReason: string | undefined, thoughts: string[] = []): Record<string, unknown>[] {
  const events: { parts?: Part[]; finishReason?: string; safetyRatings?: unknown }[] = [];
  const thoughtParts: Part[] = thoughts.map((text) => ({ text, thought: true }));
  // The last thought shares its event with the first piece, as the API does at the switch.
  const shared = pieces.length > 0 ? thoughtParts.pop() : undefined;
  for (const t of thoughtParts) events.push({ parts: [t] });
  pieces.forEach((text, i) => events.push({ parts: i === 0 && shared ? [shared, { text }] : [{ text }] }));
  if (finishReason !== undefined) {
    const last = events.at(-1);
    if (INLINE_FINISH.has(finishReason) && last?.parts && pieces.length > 0) last.finishReason = finishReason;
    else if (INLINE_FINISH.has(finishReason)) events.push({ parts: [{ text: '' }], finishReason });
    else events.push({ finishReason, ...(finishReason === 'SAFETY' ? { safetyRatings: SAFETY_RATINGS_BLOCKED } : {}) });
  }
  return events.map(({ parts, ...rest }) => ({ ...(parts ? { content: { parts, role: 'model' } } : {}), ...rest }));
}

// ---- the stub -------------------------------------------------------------------------

export async function startGeminiStub(options: GeminiStubOptions = {}): Promise<GeminiStub> {
  const host = options.host ?? '127.0.0.1';
  const defaultSource: GeminiStubScenarioSource = options.defaultScenario ?? { kind: 'echo' };
  const requests: GeminiStubRequest[] = [];
  const queue: GeminiStubScenario[] = [];
  let scenarioSource = defaultSource;
  let waitCursor = 0;
  let waiters: (() => void)[] = [];
  let holds: (() => void)[] = [];
  /** Open responses, each with the function that names how it is about to end. */
  const open = new Map<ServerResponse, (outcome: GeminiStubOutcome) => void>();
  let closing = false;

  const server = createServer((req, res) => {
    handle(req, res).catch(() => res.destroy());
  });
  // Streams must not be cut by Node's own timeouts: a silent answer stays open on purpose.
  server.requestTimeout = 0;
  server.headersTimeout = 0;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    let body: GeminiRequestBody | undefined;
    try {
      const parsed: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      if (parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed)) body = parsed as GeminiRequestBody;
    } catch {
      body = undefined;
    }

    const url = req.url ?? '/';
    const pathname = url.split('?')[0] ?? '';
    const match = req.method === 'POST' ? PATH_RE.exec(pathname) : null;
    const model = match?.[1] === undefined ? undefined : decodeURIComponent(match[1]);
    const header = req.headers['x-goog-api-key'];
    // The body is the client's JSON: its contents are read as they came, not as typed.
    const contents = (Array.isArray(body?.contents) ? (body.contents as unknown[]) : []).map(flatContent);

    let settle!: (outcome: GeminiStubOutcome) => void;
    const record: GeminiStubRequest = {
      index: requests.length,
      method: req.method ?? '',
      url,
      model,
      apiKey: Array.isArray(header) ? header.join(',') : header,
      headers: req.headers,
      body,
      contents,
      systemInstruction: body?.systemInstruction === undefined ? undefined : textOf(body.systemInstruction.parts),
      lastUserText: contents.findLast((c) => c.role === 'user')?.text ?? '',
      scenario: undefined,
      outcomeValue: undefined,
      outcome: new Promise<GeminiStubOutcome>((resolve) => (settle = resolve)),
      get aborted() {
        return this.outcomeValue === 'aborted';
      },
    };
    requests.push(record);
    const wake = waiters;
    waiters = [];
    for (const w of wake) w();

    let ending: GeminiStubOutcome | undefined;
    open.set(res, (outcome) => (ending = outcome));
    res.on('close', () => {
      open.delete(res);
      record.outcomeValue = res.writableFinished ? 'completed' : (ending ?? 'aborted');
      settle(record.outcomeValue);
    });
    const gone = () => res.destroyed || closing;

    const sendJson = (status: number, json: unknown, asText = false) => {
      // Pretty-printed, as the API sends its error bodies.
      const text = JSON.stringify(json, null, 2);
      res.writeHead(status, {
        'content-type': asText ? 'text/plain; charset=utf-8' : 'application/json; charset=UTF-8',
        'content-length': Buffer.byteLength(text),
      });
      res.end(text);
    };

    if (!match) {
      sendJson(404, geminiErrorBody(404, { message: `Method not found: ${req.method ?? ''} ${pathname}` }));
      return;
    }
    if (options.requireApiKey !== undefined && record.apiKey !== options.requireApiKey) {
      sendJson(
        400,
        geminiErrorBody(400, {
          message: 'API key not valid. Please pass a valid API key.',
          details: [
            {
              '@type': 'type.googleapis.com/google.rpc.ErrorInfo',
              reason: 'API_KEY_INVALID',
              domain: 'googleapis.com',
              metadata: { service: 'generativelanguage.googleapis.com' },
            },
          ],
        }),
      );
      return;
    }
    if (body === undefined) {
      sendJson(400, geminiErrorBody(400, { message: 'Invalid JSON payload received.' }));
      return;
    }

    const scenario = queue.shift() ?? (typeof scenarioSource === 'function' ? scenarioSource(record) : scenarioSource);
    record.scenario = scenario;
    await sleep(scenario.initialDelayMs ?? 0);
    if (gone()) return;

    if (scenario.kind === 'http-error') {
      const json = geminiErrorBody(scenario.status, { message: scenario.message, retryDelay: scenario.retryDelay, model });
      sendJson(scenario.status, json, scenario.asText);
      return;
    }

    res.writeHead(200, { 'content-type': 'text/event-stream', 'content-disposition': 'attachment', 'cache-control': 'no-cache' });
    res.flushHeaders();

    const promptTokens = Math.max(1, Math.ceil(contents.reduce((n, c) => n + c.text.length, 0) / 4));
    let outTokens = 0;
    let sent = 0;
    const delay = scenario.delayMs ?? 0;
    const write = (json: unknown) => res.write(`data: ${JSON.stringify(json)}\r\n\r\n`);
    /** Sends candidate events, `delay` apart; false once the response is gone. */
    const send = async (candidates: Record<string, unknown>[]) => {
      for (const candidate of candidates) {
        if (sent > 0) await sleep(delay);
        if (gone()) return false;
        outTokens += Math.ceil(textOf((candidate.content as { parts?: unknown } | undefined)?.parts).length / 4);
        write({
          candidates: [{ ...candidate, index: 0 }],
          usageMetadata: { promptTokenCount: promptTokens, candidatesTokenCount: outTokens, totalTokenCount: promptTokens + outTokens },
          modelVersion: model,
          responseId: `stub-${record.index}`,
        });
        sent++;
      }
      return !gone();
    };
    const leading = (s: { afterPieces: number; pieces?: string[] }) =>
      answerEvents((s.pieces ?? fillerPieces(s.afterPieces)).slice(0, s.afterPieces), undefined);

    switch (scenario.kind) {
      case 'echo':
        if (await send(answerEvents(echoPieces(record.lastUserText), 'STOP'))) res.end();
        return;
      case 'text':
        if (scenario.promptBlocked !== undefined) {
          write({
            promptFeedback: { blockReason: scenario.promptBlocked, safetyRatings: SAFETY_RATINGS_BLOCKED },
            usageMetadata: { promptTokenCount: promptTokens, totalTokenCount: promptTokens },
            modelVersion: model,
            responseId: `stub-${record.index}`,
          });
          res.end();
          return;
        }
        if (await send(answerEvents(scenario.pieces, scenario.finishReason === null ? undefined : (scenario.finishReason ?? 'STOP'), scenario.thoughts))) res.end();
        return;
      case 'stream-error':
        if (!(await send(leading(scenario)))) return;
        if (sent > 0) await sleep(delay);
        if (gone()) return;
        write(geminiErrorBody(scenario.status ?? 500, { model }));
        res.end();
        return;
      case 'cut':
        if (!(await send(leading(scenario)))) return;
        if (sent > 0) await sleep(delay);
        if (gone()) return;
        if (scenario.partialEvent) {
          res.write('data: {"candidates": [{"content": {"parts": [{"text": "never fini');
          await sleep(20);
        }
        ending = 'cut';
        res.destroy();
        return;
      case 'silence':
        await send(leading(scenario));
        return; // stays open until the client aborts or close() ends it
      case 'hold':
        if (!(await send(answerEvents(scenario.pieces ?? ['held '], undefined)))) return;
        await new Promise<void>((resolve) => {
          holds.push(resolve);
          res.once('close', () => resolve());
        });
        if (gone()) return;
        if (await send(answerEvents(scenario.rest ?? ['released'], scenario.finishReason ?? 'STOP'))) res.end();
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
    baseUrl: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
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
      return new Promise<GeminiStubRequest>((resolve, reject) => {
        const onRequest = () => {
          const next = requests[waitCursor];
          if (next === undefined) return void waiters.push(onRequest);
          waitCursor++;
          clearTimeout(timer);
          resolve(next);
        };
        const timer = setTimeout(() => {
          waiters = waiters.filter((w) => w !== onRequest);
          reject(new Error(`gemini stub: no request within ${timeoutMs} ms`));
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
