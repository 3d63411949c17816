/**
 * Render counters read by the render benchmark (bench/render-bench.ts) and the component
 * tests to show that a streamed delta renders the answer being written and nothing else.
 * Each increment sits behind `__RENDER_STATS__`, a build-time constant true only in the
 * benchmark's build and in tests: the page users get has neither the counters nor this
 * module.
 */
export const renderStats = {
  /** Stored message bubbles (ChatMessage). */
  messages: 0,
  /** The list of messages (MessageList). */
  lists: 0,
  /** The answer being written (StreamingMessage). */
  streaming: 0,
};
