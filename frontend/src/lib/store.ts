/**
 * A minimal external store for `useSyncExternalStore`: one immutable state, replaced by a
 * pure reducer. Components select the part they show; an unchanged part keeps its
 * reference, so a streamed delta (which replaces only `turn`) re-renders only what
 * reads the turn.
 */
export interface Store<S, A> {
  // Functions without `this`: each can be handed on alone (`useSyncExternalStore(store.subscribe, …)`).
  getState: () => S;
  dispatch: (action: A) => void;
  /** Returns the unsubscribe function. */
  subscribe: (listener: () => void) => () => void;
}

export function createStore<S, A>(reducer: (state: S, action: A) => S, initial: S): Store<S, A> {
  let state = initial;
  const listeners = new Set<() => void>();
  return {
    getState: () => state,
    dispatch(action) {
      const next = reducer(state, action);
      if (next === state) return;
      state = next;
      for (const l of [...listeners]) l();
    },
    subscribe(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}
