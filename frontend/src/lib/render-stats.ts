/**
 * Render counters read by the render benchmark (bench/render-bench.ts) to show that a
 * streamed delta renders the answer being written and nothing else. An increment per
 * render: free next to the render itself.
 */
export const renderStats = {
  /** Stored message bubbles (ChatMessage). */
  messages: 0,
  /** The list of messages (MessageList). */
  lists: 0,
  /** The answer being written (StreamingMessage). */
  streaming: 0,
};
