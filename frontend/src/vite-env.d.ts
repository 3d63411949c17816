/// <reference types="vite/client" />

interface ImportMetaEnv {
  /** Socket URL override at build time (see config.ts). */
  readonly VITE_WS_URL?: string;
}

/** True in the render benchmark's build (`--mode bench`) and in tests: see lib/render-stats.ts. */
declare const __RENDER_STATS__: boolean;
