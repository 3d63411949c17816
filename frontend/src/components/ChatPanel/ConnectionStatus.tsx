import Chip from '@mui/material/Chip';
import { useCallback, useSyncExternalStore } from 'react';
import type { ConnectionSnapshot } from '../../lib/chat-socket';
import { useChatSession, useConnection } from '../../lib/use-chat';
import { colorVars } from '../../theme';

const selectState = (c: ConnectionSnapshot) => c.state;
const selectRetryAt = (c: ConnectionSnapshot) => c.retryAt;

/** Seconds left until `at`, read from the clock every 250 ms while there is a countdown. */
function useSecondsUntil(at: number | null): number | null {
  const subscribe = useCallback(
    (onTick: () => void) => {
      if (at === null) return noop;
      const t = setInterval(onTick, 250);
      return () => clearInterval(t);
    },
    [at],
  );
  return useSyncExternalStore(subscribe, () => (at === null ? null : Math.max(0, Math.ceil((at - Date.now()) / 1000))));
}

function noop(): void {
  // Nothing to stop: there is no countdown.
}

export function connectionLabel(state: ConnectionSnapshot['state'], seconds: number | null): string {
  switch (state) {
    case 'open':
      return '연결됨';
    case 'connecting':
      return '연결 중…';
    case 'reconnecting':
      return seconds !== null && seconds > 0 ? `재연결 중 · ${seconds}초 후` : '재연결 중…';
    case 'offline':
      return '오프라인';
  }
}

const DOT: Record<ConnectionSnapshot['state'], string> = {
  open: colorVars.success.main,
  connecting: colorVars.warning.main,
  reconnecting: colorVars.warning.main,
  offline: colorVars.error.main,
};

/**
 * Connected / reconnecting in N s / offline. Clicking it while waiting to reconnect
 * tries at once. The countdown is not a live region (it would speak every second); a
 * hidden one says each change of state once.
 */
export function ConnectionStatus() {
  const { socket } = useChatSession();
  const state = useConnection(selectState);
  const retryAt = useConnection(selectRetryAt);
  const seconds = useSecondsUntil(state === 'reconnecting' ? retryAt : null);
  const label = connectionLabel(state, seconds);
  const canRetryNow = state === 'reconnecting' && retryAt !== null;

  return (
    <>
      <Chip
        size="small"
        data-testid="connection-status"
        data-state={state}
        label={label}
        onClick={canRetryNow ? () => socket.reconnectNow() : undefined}
        aria-label={canRetryNow ? `${label}. 지금 다시 연결` : `연결 상태: ${label}`}
        icon={
          <span
            aria-hidden
            style={{ width: 8, height: 8, borderRadius: '50%', background: DOT[state], marginLeft: 8, flex: 'none' }}
          />
        }
        sx={{
          bgcolor: 'background.default',
          color: 'text.secondary',
          border: `1px solid ${colorVars.divider}`,
          fontVariantNumeric: 'tabular-nums',
          maxWidth: 170,
        }}
      />
      <span className="visually-hidden" role="status" aria-live="polite">
        {connectionLabel(state, null)}
      </span>
    </>
  );
}
