/// <reference types="vite/client" />

interface ImportMetaEnv {
  /** Socket URL override at build time (see config.ts). */
  readonly VITE_WS_URL?: string;
}
