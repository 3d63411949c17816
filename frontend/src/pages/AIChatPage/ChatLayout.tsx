import AddCommentOutlinedIcon from '@mui/icons-material/AddCommentOutlined';
import SmartToyIcon from '@mui/icons-material/SmartToy';
import AppBar from '@mui/material/AppBar';
import Button from '@mui/material/Button';
import Toolbar from '@mui/material/Toolbar';
import Typography from '@mui/material/Typography';
import { useCallback, useRef } from 'react';
import { Announcer } from '../../components/ChatPanel/Announcer';
import { ChatInput, type ChatInputHandle } from '../../components/ChatPanel/ChatInput';
import { ConnectionStatus } from '../../components/ChatPanel/ConnectionStatus';
import { DemoBanner } from '../../components/ChatPanel/DemoBanner';
import { MessageList, type MessageListHandle } from '../../components/ChatPanel/MessageList';
import '../../components/ChatPanel/chat.css';
import { DEFAULT_MAX_MESSAGE_CHARS } from '../../lib/chat-session';
import type { ConnectionSnapshot } from '../../lib/chat-socket';
import type { ChatState } from '../../lib/chat-state';
import { useChatSession, useChatState, useConnection } from '../../lib/use-chat';
import { colorVars } from '../../theme';

const selectStreaming = (s: ChatState) => s.turn !== null || s.awaitingTurn;
const selectWaiting = (s: ChatState) => s.outgoing.some((o) => o.error === null);
const selectOffline = (c: ConnectionSnapshot) => c.state === 'offline';
const selectMaxChars = (c: ConnectionSnapshot) => c.welcome?.limits.maxMessageChars ?? DEFAULT_MAX_MESSAGE_CHARS;

/** The chat's screen: header, demo banner, conversation and input, for the session in context. */
export function ChatLayout() {
  const session = useChatSession();
  const listRef = useRef<MessageListHandle>(null);
  const inputRef = useRef<ChatInputHandle>(null);
  const streaming = useChatState(selectStreaming);
  const waiting = useChatState(selectWaiting);
  const offline = useConnection(selectOffline);
  const maxChars = useConnection(selectMaxChars);

  const onSend = useCallback(
    (text: string) => {
      const sent = session.send(text) === 'sent';
      if (sent) listRef.current?.scrollToBottom();
      return sent;
    },
    [session],
  );
  const onStop = useCallback(() => session.stop(), [session]);
  const onNewChat = useCallback(() => {
    session.newChat();
    inputRef.current?.focus();
  }, [session]);

  return (
    <div style={{ height: '100dvh', display: 'flex', flexDirection: 'column', background: colorVars.background.default }}>
      <AppBar position="static" elevation={0} sx={{ bgcolor: 'background.paper', borderBottom: `1px solid ${colorVars.divider}` }}>
        <Toolbar sx={{ gap: 1, minHeight: { xs: 56 }, px: { xs: 1.5, sm: 2 } }}>
          <SmartToyIcon sx={{ color: 'primary.main' }} aria-hidden />
          <Typography component="h1" variant="h6" sx={{ fontWeight: 700, fontSize: '1.1rem', whiteSpace: 'nowrap' }}>
            AI 비서
          </Typography>
          <div style={{ flex: 1 }} />
          <ConnectionStatus />
          <Button
            onClick={onNewChat}
            data-testid="new-chat-button"
            aria-label="새 대화"
            title="새 대화 시작"
            color="inherit"
            size="small"
            startIcon={<AddCommentOutlinedIcon />}
            sx={{
              minWidth: 0,
              whiteSpace: 'nowrap',
              color: 'text.primary',
              '& .MuiButton-startIcon': { mr: { xs: 0, sm: 0.75 }, ml: { xs: 0, sm: -0.5 } },
            }}
          >
            <span className="new-chat-label">새 대화</span>
          </Button>
        </Toolbar>
      </AppBar>
      <DemoBanner />
      <main style={{ flex: '1 1 auto', minHeight: 0, display: 'flex', flexDirection: 'column' }}>
        <MessageList ref={listRef} />
        <ChatInput
          ref={inputRef}
          onSend={onSend}
          onStop={onStop}
          streaming={streaming}
          waiting={waiting}
          disabled={offline}
          maxChars={maxChars}
        />
      </main>
      <Announcer />
    </div>
  );
}
