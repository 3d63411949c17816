import KeyboardArrowDownIcon from '@mui/icons-material/KeyboardArrowDown';
import RefreshIcon from '@mui/icons-material/Refresh';
import SmartToyIcon from '@mui/icons-material/SmartToy';
import Alert from '@mui/material/Alert';
import Button from '@mui/material/Button';
import Fab from '@mui/material/Fab';
import { useCallback, useImperativeHandle, useRef, type Ref } from 'react';
import { isBusy, type ChatState } from '../../lib/chat-state';
import { errorText } from '../../lib/error-text';
import { renderStats } from '../../lib/render-stats';
import { useChatSession, useChatState } from '../../lib/use-chat';
import { colorVars } from '../../theme';
import { ChatMessage } from './ChatMessage';
import { OutgoingMessage } from './OutgoingMessage';
import { StreamingMessage } from './StreamingMessage';
import { useStickToBottom } from './useStickToBottom';

export interface MessageListHandle {
  /** Scrolls to the newest message and follows it again (after the user sends). */
  scrollToBottom(): void;
}

const selectMessages = (s: ChatState) => s.messages;
const selectOutgoing = (s: ChatState) => s.outgoing;
const selectTurnId = (s: ChatState) => s.turn?.turnId ?? null;
const selectReplaces = (s: ChatState) => s.turn?.replaces ?? null;
const selectAwaiting = (s: ChatState) => s.awaitingTurn && s.turn === null;
const selectLoaded = (s: ChatState) => s.loaded;
const selectTruncated = (s: ChatState) => s.truncated;
const selectNotice = (s: ChatState) => s.notice;

/**
 * The conversation: stored messages (memoized bubbles), the answer being written (which
 * renders itself per frame), messages on their way, and an error that belongs to no
 * bubble. Reads the turn's id, never its text: a delta does not render this list.
 */
export function MessageList({ ref }: { ref?: Ref<MessageListHandle> }) {
  // eslint-disable-next-line react-hooks/immutability -- counting renders is the point; only benchmark and test builds have it
  if (__RENDER_STATS__) renderStats.lists++;
  const session = useChatSession();
  const messages = useChatState(selectMessages);
  const outgoing = useChatState(selectOutgoing);
  const turnId = useChatState(selectTurnId);
  const replaces = useChatState(selectReplaces);
  const awaiting = useChatState(selectAwaiting);
  const busy = useChatState(isBusy);
  const loaded = useChatState(selectLoaded);
  const truncated = useChatState(selectTruncated);
  const notice = useChatState(selectNotice);

  const onRegenerate = useCallback(() => session.regenerate(), [session]);
  const onRetry = useCallback((id: string) => session.retry(id), [session]);
  const onDismiss = useCallback((id: string) => session.dismiss(id), [session]);

  const scrollRef = useRef<HTMLDivElement>(null);
  const contentRef = useRef<HTMLDivElement>(null);
  const { atBottom, scrollToBottom } = useStickToBottom(scrollRef, contentRef);
  useImperativeHandle(ref, () => ({ scrollToBottom }), [scrollToBottom]);

  const last = messages[messages.length - 1];
  const lastModelId = last?.role === 'model' ? last.id : null;
  const unanswered = loaded && last?.role === 'user' && !busy && turnId === null && notice === null;
  const empty = messages.length === 0 && outgoing.length === 0 && turnId === null;

  return (
    <div style={{ position: 'relative', flex: '1 1 auto', minHeight: 0, display: 'flex', flexDirection: 'column' }}>
      <div
        ref={scrollRef}
        className="chat-scroll"
        data-testid="message-list"
        tabIndex={0}
        role="region"
        aria-label="대화 내용"
        style={{ flex: '1 1 auto', overflowY: 'auto', overflowX: 'hidden', outline: 'none', overscrollBehavior: 'contain' }}
      >
        <div ref={contentRef} className="chat-log">
          {truncated ? <div className="msg__meta" style={{ alignSelf: 'center' }}>이전 대화 일부는 표시되지 않습니다.</div> : null}
          {empty ? <EmptyState loading={!loaded} /> : null}
          {/* Stored messages in a box of their own: while the answer below grows, the
              browser re-lays out that answer, not the thousand bubbles above it. */}
          <div className="chat-log__stored">
            {messages.map((m) =>
              m.id === replaces ? null : (
                <ChatMessage
                  key={m.id}
                  message={m}
                  canRegenerate={m.id === lastModelId && !busy}
                  onRegenerate={m.id === lastModelId ? onRegenerate : undefined}
                />
              ),
            )}
          </div>
          {unanswered ? (
            <div className="msg msg--model">
              <div className="msg__meta">
                <span>아직 답변이 없습니다.</span>
                <Button size="small" variant="outlined" startIcon={<RefreshIcon />} onClick={onRegenerate} data-testid="regenerate-button">
                  답변 받기
                </Button>
              </div>
            </div>
          ) : null}
          {outgoing.map((o) => (
            <OutgoingMessage key={o.clientMsgId} message={o} busy={busy} onRetry={onRetry} onDismiss={onDismiss} />
          ))}
          {turnId !== null ? <StreamingMessage key={turnId} turnId={turnId} /> : null}
          {awaiting ? (
            <div className="msg msg--model" aria-hidden="true">
              <div className="msg__bubble">
                <span className="msg__typing">
                  <span />
                  <span />
                  <span />
                </span>
              </div>
            </div>
          ) : null}
          {notice ? (
            <Alert
              severity="error"
              variant="outlined"
              data-testid="chat-error"
              data-code={notice.code}
              onClose={() => session.dismissNotice()}
              action={
                notice.retry ? (
                  <Button color="inherit" size="small" onClick={() => session.retryNotice()} data-testid="retry-button">
                    {notice.retry === 'regenerate' ? '다시 생성' : '다시 시도'}
                  </Button>
                ) : undefined
              }
              sx={{ alignItems: 'center' }}
            >
              {errorText(notice.code, notice.retryAfterMs)}
            </Alert>
          ) : null}
        </div>
      </div>
      {!atBottom ? (
        <Fab
          size="small"
          variant="extended"
          color="primary"
          onClick={scrollToBottom}
          aria-label="최신 메시지로 이동"
          data-testid="latest-button"
          sx={{ position: 'absolute', bottom: 12, left: '50%', transform: 'translateX(-50%)', boxShadow: 6 }}
        >
          <KeyboardArrowDownIcon sx={{ mr: 0.5 }} />
          최신 메시지
        </Fab>
      ) : null}
    </div>
  );
}

function EmptyState({ loading }: { loading: boolean }) {
  return (
    <div style={{ textAlign: 'center', marginTop: '18vh', color: colorVars.chat.textFaint }} data-testid="empty-state">
      <SmartToyIcon sx={{ fontSize: 48, color: 'divider', mb: 1 }} aria-hidden />
      <p style={{ margin: 0, fontSize: '1.15rem', color: colorVars.text.secondary }}>무엇이든 물어보세요</p>
      <p style={{ margin: '6px 0 0', fontSize: '0.85rem' }}>{loading ? '대화를 불러오는 중…' : 'AI 비서가 한국어로 답합니다.'}</p>
    </div>
  );
}
