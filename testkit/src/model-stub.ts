/**
 * The model API stubs behind one face, for suites that run once per provider: the
 * scenarios both stubs speak alike, and the environment that points a server at one.
 *
 *   for (const provider of MODEL_PROVIDERS) {
 *     const model = await startModelStub(provider);
 *     const server = await startTestServer({ env: model.env });
 *   }
 */
import { startGeminiStub } from './gemini-stub.js';
import { startOpenAiStub } from './openai-stub.js';

export const MODEL_PROVIDERS = ['gemini', 'openai'] as const;
export type ModelProvider = (typeof MODEL_PROVIDERS)[number];

/** Scenarios with the same meaning at both stubs. */
export type SharedScenario =
  | { kind: 'echo' }
  | { kind: 'text'; pieces: string[]; delayMs?: number }
  | { kind: 'hold'; pieces?: string[]; rest?: string[]; delayMs?: number }
  | { kind: 'silence'; afterPieces: number; pieces?: string[] }
  | { kind: 'cut'; afterPieces: number }
  | { kind: 'stream-error'; afterPieces: number }
  | { kind: 'http-error'; status: number };

export interface ModelStubRequest {
  /** The conversation in the seam's terms (`user`/`model`), without the system prompt. */
  readonly contents: { role: string; text: string }[];
  readonly systemInstruction: string | undefined;
  readonly outcome: Promise<string>;
}

export interface ModelStub {
  readonly provider: ModelProvider;
  /** The model name the server is configured with (what `welcome.model` says). */
  readonly model: string;
  /** What a server needs in its environment to use this stub. */
  readonly env: Record<string, string>;
  readonly requests: readonly ModelStubRequest[];
  enqueue(...scenarios: SharedScenario[]): void;
  release(): number;
  reset(): void;
  close(): Promise<void>;
}

export async function startModelStub(provider: ModelProvider): Promise<ModelStub> {
  if (provider === 'gemini') {
    const stub = await startGeminiStub();
    return {
      provider,
      model: 'gemini-2.5-flash',
      env: { LLM_PROVIDER: 'gemini', GEMINI_API_KEY: 'test-key', GEMINI_BASE_URL: stub.baseUrl },
      get requests() {
        return stub.requests;
      },
      enqueue: (...scenarios) => stub.enqueue(...scenarios),
      release: () => stub.release(),
      reset: () => stub.reset(),
      close: () => stub.close(),
    };
  }
  const stub = await startOpenAiStub();
  const model = 'llama3.2:1b';
  return {
    provider,
    model,
    env: { LLM_PROVIDER: 'openai', OPENAI_BASE_URL: stub.baseUrl, OPENAI_MODEL: model },
    get requests() {
      return stub.requests;
    },
    enqueue: (...scenarios) => stub.enqueue(...scenarios),
    release: () => stub.release(),
    reset: () => stub.reset(),
    close: () => stub.close(),
  };
}
