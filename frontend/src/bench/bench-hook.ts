/**
 * The render benchmark's handle on its page (bench.html, see bench/render-bench.ts):
 * loads N messages into the conversation state and streams deltas into it, without a
 * server, and measures each step with performance marks and the render counters.
 */
import { flushSync } from 'react-dom';
import { preloadMarkdown } from '../components/ChatPanel/Markdown';
import type { ChatSession } from '../lib/chat-session';
import { flushFrames } from '../lib/frame-scheduler';
import type { Message as WireMessage } from '@ai-chat/protocol';
import { renderStats } from '../lib/render-stats';

export interface BenchResult {
  ms: number;
  renders: { messages: number; lists: number; streaming: number };
}

export interface ChatBench {
  ready: boolean;
  /** Empties the conversation. */
  reset(): Promise<void>;
  /** Renders a conversation of `n` stored messages from an empty page (one `history` frame). */
  open(n: number): Promise<BenchResult>;
  /** Starts an answer being written (after `open`). */
  startTurn(): Promise<void>;
  /** One streamed delta, rendered and laid out. */
  delta(text: string): Promise<BenchResult>;
  messageCount(): number;
}

declare global {
  interface Window {
    __chatBench?: ChatBench;
  }
}

function modelText(i: number): string {
  let t =
    `${i}번째 답변입니다. **중요한 점**과 *참고할 점*, 그리고 \`inline code\`가 있습니다.\n\n` +
    `- 첫째 항목: 대화가 길어져도 화면은 빠르게 그려져야 합니다\n- 둘째 항목\n  1. 하위 항목\n\n` +
    `| 항목 | 값 |\n|---|---|\n| 번호 | ${i} |\n| 상태 | 완료 |\n`;
  if (i % 10 === 0) t += `\n\`\`\`ts\nconst answer${i}: number = ${i};\nconsole.log(answer${i});\n\`\`\`\n`;
  return t;
}

function makeMessages(n: number): WireMessage[] {
  const out: WireMessage[] = [];
  for (let i = 0; i < n; i++) {
    const user = i % 2 === 0;
    out.push({
      id: `bench-msg-${i}`,
      role: user ? 'user' : 'model',
      text: user ? `${i}번째 질문입니다. 긴 대화에서도 렌더링 비용이 일정한지 확인합니다.` : modelText(i),
      createdAt: 1_700_000_000_000 + i * 1000,
      status: 'complete',
    });
  }
  return out;
}

const nextFrame = () => new Promise<void>((r) => requestAnimationFrame(() => r()));

function forceLayout(): void {
  const list = document.querySelector('[data-testid="message-list"]');
  list?.getBoundingClientRect();
  void document.body.getBoundingClientRect();
}

function snapshotStats() {
  return { ...renderStats };
}

function diffStats(before: typeof renderStats): BenchResult['renders'] {
  return {
    messages: renderStats.messages - before.messages,
    lists: renderStats.lists - before.lists,
    streaming: renderStats.streaming - before.streaming,
  };
}

let measureCount = 0;

function measure(name: string, run: () => void): BenchResult {
  const id = ++measureCount;
  const before = snapshotStats();
  performance.mark(`${name}:start:${id}`);
  run();
  forceLayout();
  performance.mark(`${name}:end:${id}`);
  const m = performance.measure(`${name}:${id}`, `${name}:start:${id}`, `${name}:end:${id}`);
  return { ms: m.duration, renders: diffStats(before) };
}

export function installBenchHook(session: ChatSession): void {
  const { store } = session;
  let turn = 0;
  let seq = 0;

  const api: ChatBench = {
    ready: false,
    async reset() {
      flushSync(() => store.dispatch({ type: 'reset', chatId: session.chatId }));
      await nextFrame();
    },
    async open(n) {
      await api.reset();
      const messages = makeMessages(n);
      const result = measure('chat-open', () => {
        flushSync(() =>
          store.dispatch({
            type: 'frame',
            at: Date.now(),
            frame: { type: 'history', chatId: session.chatId, messages, turn: null, truncated: false },
          }),
        );
      });
      await nextFrame();
      return result;
    },
    async startTurn() {
      turn++;
      seq = 0;
      const last = store.getState().messages.at(-1);
      flushSync(() =>
        store.dispatch({
          type: 'frame',
          at: Date.now(),
          frame: {
            type: 'start',
            chatId: session.chatId,
            turnId: `bench-turn-${turn}`,
            replyTo: last?.id ?? 'none',
            replaces: null,
          },
        }),
      );
      await nextFrame();
    },
    async delta(text) {
      seq++;
      const frame = { type: 'delta' as const, chatId: session.chatId, turnId: `bench-turn-${turn}`, seq, text };
      const result = measure('chat-delta', () => {
        flushSync(() => {
          store.dispatch({ type: 'frame', at: Date.now(), frame });
          flushFrames();
        });
      });
      await nextFrame();
      return result;
    },
    messageCount: () => document.querySelectorAll('[data-testid="message"]').length,
  };

  window.__chatBench = api;
  void preloadMarkdown().then(() => {
    api.ready = true;
  });
}
