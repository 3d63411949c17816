import { useEffect, useState } from 'react';
import { socketUrl } from '../../config';
import { ChatSession } from '../../lib/chat-session';
import { ChatSocket } from '../../lib/chat-socket';
import { ChatSessionContext } from '../../lib/use-chat';
import { ChatLayout } from './ChatLayout';

export interface AIChatPageProps {
  /** Tests pass their own session; the page otherwise makes one for the configured socket URL. */
  session?: ChatSession;
}

/** `/chat`: the AI assistant. */
export default function AIChatPage({ session: given }: AIChatPageProps) {
  const [session] = useState(() => given ?? new ChatSession({ socket: new ChatSocket({ url: socketUrl() }) }));

  useEffect(() => {
    // Started from a microtask: React's StrictMode (development) mounts, unmounts and
    // mounts again synchronously, which would otherwise open and drop a socket.
    let cancelled = false;
    queueMicrotask(() => {
      if (!cancelled) session.start();
    });
    return () => {
      cancelled = true;
      session.dispose();
    };
  }, [session]);

  useEffect(() => {
    document.title = 'AI 비서';
  }, []);

  return (
    <ChatSessionContext.Provider value={session}>
      <ChatLayout />
    </ChatSessionContext.Provider>
  );
}
