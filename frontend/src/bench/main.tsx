/**
 * The render benchmark's page (bench.html, built by `vite build --mode bench` into
 * dist-bench/; see bench/render-bench.ts): the chat's screen for a session that never
 * connects, driven through `window.__chatBench`. Not part of the page users get.
 */
import CssBaseline from '@mui/material/CssBaseline';
import { ThemeProvider } from '@mui/material/styles';
import { createRoot } from 'react-dom/client';
import { socketUrl } from '../config';
import { ChatSession } from '../lib/chat-session';
import { ChatSocket } from '../lib/chat-socket';
import { ChatSessionContext } from '../lib/use-chat';
import { ChatLayout } from '../pages/AIChatPage/ChatLayout';
import { theme } from '../theme';
import { installBenchHook } from './bench-hook';

// Never started: the benchmark feeds the conversation state itself.
const session = new ChatSession({ socket: new ChatSocket({ url: socketUrl() }) });

createRoot(document.getElementById('root')!).render(
  <ThemeProvider theme={theme}>
    <CssBaseline />
    <ChatSessionContext.Provider value={session}>
      <ChatLayout />
    </ChatSessionContext.Provider>
  </ThemeProvider>,
);

installBenchHook(session);
