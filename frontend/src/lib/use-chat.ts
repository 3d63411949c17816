/**
 * React bindings of the chat session: a context holding the session, and hooks that
 * select one part of the state each (a component re-renders only when its part changes).
 */
import { createContext, useContext, useSyncExternalStore } from 'react';
import type { ChatSession } from './chat-session';
import type { ConnectionSnapshot } from './chat-socket';
import type { ChatState } from './chat-state';

export const ChatSessionContext = createContext<ChatSession | null>(null);

export function useChatSession(): ChatSession {
  const session = useContext(ChatSessionContext);
  if (!session) throw new Error('useChatSession outside <ChatSessionContext.Provider>');
  return session;
}

/**
 * A part of the conversation state. `select` must return a part of the state as it is
 * (or a primitive), never a new object or array: that is what keeps re-renders local.
 */
export function useChatState<T>(select: (s: ChatState) => T): T {
  const { store } = useChatSession();
  return useSyncExternalStore(
    store.subscribe,
    () => select(store.getState()),
    () => select(store.getState()),
  );
}

export function useConnection<T>(select: (c: ConnectionSnapshot) => T): T {
  const { socket } = useChatSession();
  return useSyncExternalStore(
    socket.subscribe,
    () => select(socket.getSnapshot()),
    () => select(socket.getSnapshot()),
  );
}
