import type { ChatState } from '../../lib/chat-state';
import { useChatState } from '../../lib/use-chat';

const selectAnnouncement = (s: ChatState) => s.announcement;

/**
 * The polite live region: says that an answer is being written, then the finished
 * answer once (not each delta, which would make a screen reader stutter).
 */
export function Announcer() {
  const a = useChatState(selectAnnouncement);
  return (
    <div className="visually-hidden" aria-live="polite" aria-atomic="true" data-testid="answer-live-region">
      {a ? <span key={a.key}>{a.text}</span> : null}
    </div>
  );
}
