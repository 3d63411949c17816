import RefreshIcon from '@mui/icons-material/Refresh';
import Button from '@mui/material/Button';
import IconButton from '@mui/material/IconButton';
import { memo } from 'react';
import type { ChatMessage as Message } from '../../lib/chat-state';
import { statusText } from '../../lib/error-text';
import { renderStats } from '../../lib/render-stats';
import { Markdown } from './Markdown';

export interface ChatMessageProps {
  message: Message;
  /** Shows "regenerate" (only on the last answer, while nothing streams). */
  canRegenerate?: boolean;
  onRegenerate?: () => void;
}

const FINISH_NOTES: Partial<Record<string, string>> = {
  max_tokens: '답변이 최대 길이에 도달해 끝났습니다.',
  safety: '안전 정책에 따라 답변이 중간에 멈췄습니다.',
};

/**
 * One stored message: the user's as plain text, the model's as Markdown. Memoized: a
 * bubble renders again only when its own message or its actions change, never because
 * another message arrived or the answer below it grew.
 */
export const ChatMessage = memo(function ChatMessage({ message, canRegenerate = false, onRegenerate }: ChatMessageProps) {
  if (__RENDER_STATS__) renderStats.messages++;
  const isUser = message.role === 'user';
  const abnormal = message.status !== 'complete';
  const note = !isUser && !abnormal && message.finishReason ? FINISH_NOTES[message.finishReason] : undefined;

  return (
    <article
      className={`msg ${isUser ? 'msg--user' : 'msg--model'}`}
      data-testid="message"
      data-role={message.role}
      data-status={message.status}
      data-message-id={message.id}
      aria-label={isUser ? '내 메시지' : 'AI 비서의 답변'}
    >
      <div className="msg__bubble">
        {isUser ? message.text : message.text ? <Markdown text={message.text} /> : <span className="msg__empty">(빈 답변)</span>}
      </div>
      {!isUser && (abnormal || note || canRegenerate) ? (
        <div className="msg__meta">
          {abnormal ? (
            <span
              className={`msg__status msg__status--${message.status === 'stopped' ? 'stopped' : 'error'}`}
              data-testid="message-status"
            >
              {statusText(message.status as 'stopped' | 'interrupted' | 'error', message.errorCode)}
            </span>
          ) : null}
          {note ? <span className="msg__status msg__status--stopped">{note}</span> : null}
          {canRegenerate && onRegenerate ? (
            abnormal ? (
              <Button
                size="small"
                variant="outlined"
                startIcon={<RefreshIcon />}
                onClick={onRegenerate}
                data-testid="regenerate-button"
              >
                다시 생성
              </Button>
            ) : (
              <IconButton
                size="small"
                onClick={onRegenerate}
                aria-label="답변 다시 생성"
                title="답변 다시 생성"
                data-testid="regenerate-button"
                sx={{ color: 'text.secondary' }}
              >
                <RefreshIcon fontSize="small" />
              </IconButton>
            )
          ) : null}
        </div>
      ) : null}
    </article>
  );
});
