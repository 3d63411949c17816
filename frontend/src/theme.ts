import { createTheme } from '@mui/material/styles';

/** The original plan's dark look: page #0F172A, bars and model bubbles #1E293B (Tailwind slate). */
export const colors = {
  page: '#0F172A',
  surface: '#1E293B',
  surfaceRaised: '#273449',
  border: '#334155',
  text: '#E2E8F0',
  textMuted: '#94A3B8',
  textFaint: '#64748B',
  userBubble: '#2563EB',
  accent: '#38BDF8',
  success: '#4ADE80',
  warning: '#FBBF24',
  danger: '#F87171',
} as const;

export const theme = createTheme({
  palette: {
    mode: 'dark',
    background: { default: colors.page, paper: colors.surface },
    primary: { main: colors.accent, contrastText: colors.page },
    secondary: { main: colors.userBubble },
    error: { main: colors.danger },
    warning: { main: colors.warning },
    success: { main: colors.success },
    text: { primary: colors.text, secondary: colors.textMuted },
    divider: colors.border,
  },
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
        body: { backgroundColor: colors.page, overscrollBehavior: 'none' },
      },
    },
    MuiTooltip: { defaultProps: { arrow: true } },
  },
});
