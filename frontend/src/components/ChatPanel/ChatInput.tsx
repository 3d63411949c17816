import SendIcon from '@mui/icons-material/Send';
import StopCircleIcon from '@mui/icons-material/StopCircle';
import IconButton from '@mui/material/IconButton';
import InputBase from '@mui/material/InputBase';
import { useCallback, useEffect, useId, useImperativeHandle, useLayoutEffect, useMemo, useRef, useState, type Ref } from 'react';
import { ImeEnterGuard } from '../../lib/ime-enter';
import { codePointLength } from '@ai-chat/protocol';
import { colorVars } from '../../theme';

export interface ChatInputHandle {
  focus(): void;
}

export interface ChatInputProps {
  /** Sends the text; returns true when it was taken (the field is then emptied). */
  onSend: (text: string) => boolean;
  onStop: () => void;
  /** An answer is streaming (or about to): Enter does not send, the stop button shows. */
  streaming: boolean;
  /** Another message is still on its way: Enter does not send. */
  waiting?: boolean;
  /** Only while offline. */
  disabled?: boolean;
  /** `welcome.limits.maxMessageChars`, in code points. */
  maxChars: number;
  ref?: Ref<ChatInputHandle>;
}

/** The counter shows from this share of the limit on. */
const COUNTER_FROM = 0.8;
/** After a send, a line break the IME delivers late (Safari, Korean) is dropped. */
const LATE_NEWLINE_MS = 200;

/**
 * The message field: multiline, Enter sends, Shift+Enter breaks the line, right with
 * Korean, Japanese and Chinese input methods (see lib/ime-enter.ts). The field is
 * uncontrolled: React never writes its value while an IME composes in it.
 */
export function ChatInput({ onSend, onStop, streaming, waiting = false, disabled = false, maxChars, ref }: ChatInputProps) {
  const inputRef = useRef<HTMLTextAreaElement>(null);
  const [text, setText] = useState('');
  const hintId = useId();
  const counterId = useId();

  const count = useMemo(() => codePointLength(text), [text]);
  const tooLong = count > maxChars;
  const blank = text.trim().length === 0;

  // The guard lives as long as the field; it reads the latest props through this ref.
  const latest = useRef({ onSend, streaming, waiting, disabled, maxChars });
  useLayoutEffect(() => {
    latest.current = { onSend, streaming, waiting, disabled, maxChars };
  });
  const lateNewlineUntil = useRef(0);

  const submit = useCallback(() => {
    const el = inputRef.current;
    if (!el) return;
    const value = el.value;
    const p = latest.current;
    if (value.trim().length === 0 || p.disabled || p.streaming || p.waiting) return;
    if (codePointLength(value.trim()) > p.maxChars) return;
    if (!p.onSend(value)) return;
    el.value = '';
    setText('');
    lateNewlineUntil.current = performance.now() + LATE_NEWLINE_MS;
    el.focus();
  }, []);

  // Made in an effect (it holds `submit`, which reads refs); only event handlers use it.
  const guard = useRef<ImeEnterGuard | null>(null);
  useEffect(() => {
    const g = new ImeEnterGuard(submit);
    guard.current = g;
    return () => {
      g.dispose();
      guard.current = null;
    };
  }, [submit]);

  useImperativeHandle(ref, () => ({ focus: () => inputRef.current?.focus() }), []);

  // Native `beforeinput` (React's onBeforeInput is another event): drop a line break
  // that arrives right after a send.
  useEffect(() => {
    const el = inputRef.current;
    if (!el) return;
    const onBeforeInput = (e: InputEvent) => {
      if (
        (e.inputType === 'insertLineBreak' || e.inputType === 'insertParagraph') &&
        performance.now() < lateNewlineUntil.current
      ) {
        e.preventDefault();
      }
    };
    el.addEventListener('beforeinput', onBeforeInput);
    return () => el.removeEventListener('beforeinput', onBeforeInput);
  }, []);

  const onChange = (e: React.ChangeEvent<HTMLTextAreaElement | HTMLInputElement>) => {
    const el = e.target;
    if (performance.now() < lateNewlineUntil.current && el.value.trim() === '' && el.value !== '') {
      el.value = '';
    }
    setText(el.value);
  };

  const showCounter = count >= maxChars * COUNTER_FROM;
  const canSend = !blank && !tooLong && !disabled && !streaming && !waiting;

  return (
    <div
      style={{
        borderTop: `1px solid ${colorVars.divider}`,
        background: colorVars.background.default,
        padding: '10px 12px calc(10px + env(safe-area-inset-bottom))',
      }}
    >
      <div style={{ maxWidth: 820, margin: '0 auto' }}>
        <div
          style={{
            display: 'flex',
            alignItems: 'flex-end',
            gap: 6,
            background: colorVars.background.paper,
            border: `1px solid ${tooLong ? colorVars.error.main : colorVars.divider}`,
            borderRadius: 16,
            padding: '6px 6px 6px 14px',
          }}
        >
          <InputBase
            inputRef={inputRef}
            multiline
            minRows={1}
            maxRows={8}
            fullWidth
            disabled={disabled}
            placeholder={disabled ? '오프라인입니다. 연결되면 입력할 수 있습니다.' : '메시지를 입력하세요'}
            onChange={onChange}
            onKeyDown={(e) => {
              if (e.key === 'Escape' && streaming && !e.nativeEvent.isComposing) {
                e.preventDefault();
                onStop();
                return;
              }
              guard.current?.keyDown({
                key: e.key,
                code: e.code,
                // eslint-disable-next-line @typescript-eslint/no-deprecated -- keyCode 229 is the only sign of an IME Enter in Safari
                keyCode: e.keyCode,
                shiftKey: e.shiftKey,
                altKey: e.altKey,
                isComposing: e.nativeEvent.isComposing,
                preventDefault: () => e.preventDefault(),
              });
            }}
            inputProps={{
              'data-testid': 'chat-input',
              'aria-label': '메시지 입력',
              'aria-describedby': showCounter ? `${hintId} ${counterId}` : hintId,
              'aria-invalid': tooLong || undefined,
              enterKeyHint: 'send',
              onCompositionStart: () => guard.current?.compositionStart(),
              onCompositionEnd: (e: React.CompositionEvent<HTMLTextAreaElement>) => guard.current?.compositionEnd(e.data),
            }}
            sx={{ color: 'text.primary', fontSize: '0.95rem', lineHeight: 1.5, py: '6px' }}
          />
          {streaming ? (
            <IconButton onClick={onStop} aria-label="답변 중지" title="답변 중지" data-testid="stop-button" sx={{ color: 'text.primary' }}>
              <StopCircleIcon />
            </IconButton>
          ) : (
            <IconButton
                  onClick={() => {
                    submit();
                    inputRef.current?.focus();
                  }}
                  disabled={!canSend}
                  aria-label="보내기"
                  title="보내기 (Enter)"
                  data-testid="send-button"
                  color="primary"
                >
                  <SendIcon />
                </IconButton>
          )}
        </div>
        <div
          style={{
            display: 'flex',
            justifyContent: 'space-between',
            gap: 8,
            marginTop: 4,
            padding: '0 6px',
            fontSize: '0.75rem',
            color: colorVars.chat.textFaint,
          }}
        >
          <span id={hintId}>{streaming ? 'Esc로 답변 중지' : 'Enter로 보내기 · Shift+Enter로 줄바꿈'}</span>
          {showCounter ? (
            <span
              id={counterId}
              data-testid="char-counter"
              aria-live="polite"
              style={{ color: tooLong ? colorVars.error.main : colorVars.text.secondary, whiteSpace: 'nowrap' }}
            >
              {tooLong ? `최대 ${maxChars.toLocaleString('ko-KR')}자 · ` : ''}
              {count.toLocaleString('ko-KR')} / {maxChars.toLocaleString('ko-KR')}
            </span>
          ) : null}
        </div>
      </div>
    </div>
  );
}
