/**
 * Every colour of the page, and the only place one is written: the dark look of the
 * original plan (Tailwind's slate: page #0F172A, bars and model bubbles #1E293B). The
 * theme (theme.ts) is built from it and publishes each one as a CSS variable
 * (`--mui-palette-…`) that chat.css and the components use; index.html's first paint
 * takes the page's background from here at build time (vite.config.ts). No imports:
 * the build config reads it too.
 */
export const palette = {
  mode: 'dark',
  background: { default: '#0F172A', paper: '#1E293B' },
  text: { primary: '#E2E8F0', secondary: '#94A3B8' },
  divider: '#334155',
  /** Links, the caret, the send button. */
  primary: { main: '#38BDF8', contrastText: '#0F172A' },
  /** The user's bubble. */
  secondary: { main: '#2563EB', contrastText: '#FFFFFF' },
  error: { main: '#F87171' },
  warning: { main: '#FBBF24' },
  success: { main: '#4ADE80' },
  /** The chat's own colours, with no role in MUI's palette. */
  chat: {
    /** Hints under the input, the empty state's text. */
    textFaint: '#64748B',
    /** A failed or interrupted answer's status line. */
    errorText: '#FCA5A5',
    /** A stopped or cut-short answer's status line. */
    stoppedText: '#FCD34D',
    quoteBorder: '#475569',
    quoteText: '#CBD5E1',
    codeBackground: '#0B1220',
    codeBar: '#111C30',
    bannerBackground: '#0C2A3F',
    bannerText: '#BAE6FD',
  },
} as const;

export type ChatPalette = { [K in keyof typeof palette.chat]: string };
