import { createTheme } from '@mui/material/styles';
import { palette, type ChatPalette } from './palette';

declare module '@mui/material/styles' {
  interface Palette {
    chat: ChatPalette;
  }
  interface PaletteOptions {
    chat?: ChatPalette;
  }
  // `cssVariables: true`: `theme.vars` is always there.
  interface CssThemeVariables {
    enabled: true;
  }
}

/**
 * The page's theme. With `cssVariables`, MUI writes the palette as CSS variables on
 * `:root` (`--mui-palette-background-default`, `--mui-palette-chat-codeBar`, …): chat.css
 * and the components' styles use those, never a colour of their own.
 */
export const theme = createTheme({
  cssVariables: true,
  palette,
  shape: { borderRadius: 12 },
  typography: {
    fontFamily: [
      'system-ui',
      '-apple-system',
      '"Apple SD Gothic Neo"',
      '"Malgun Gothic"',
      '"Noto Sans KR"',
      '"Noto Sans CJK KR"',
      '"Segoe UI"',
      'Roboto',
      'sans-serif',
    ].join(','),
  },
  components: {
    MuiCssBaseline: {
      styleOverrides: {
        'html, body, #root': { height: '100%' },
        body: { overscrollBehavior: 'none' },
      },
    },
    MuiTooltip: { defaultProps: { arrow: true } },
  },
});

/** The palette as CSS variable references (`var(--mui-palette-…)`), for `style` attributes. */
export const colorVars = theme.vars.palette;
