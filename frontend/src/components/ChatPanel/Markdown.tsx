import { lazy, memo, Suspense, type ComponentType } from 'react';

/**
 * A model answer as Markdown. The renderer (react-markdown + GFM) is a chunk of its own,
 * fetched right after the page starts (`preloadMarkdown`), so the first paint does not
 * wait for it; until it is there, the text shows as plain text.
 */
type Renderer = ComponentType<{ text: string }>;

let loaded: Renderer | null = null;
let loading: Promise<{ default: Renderer }> | null = null;

export function preloadMarkdown(): Promise<{ default: Renderer }> {
  loading ??= import('./MarkdownRenderer').then((m) => {
    loaded = m.default;
    return m;
  });
  return loading;
}

const LazyRenderer = lazy(preloadMarkdown);

export function PlainText({ text }: { text: string }) {
  return <p className="plain">{text}</p>;
}

export const Markdown = memo(function Markdown({ text }: { text: string }) {
  const Renderer = loaded;
  return (
    <div className="md">
      {Renderer ? (
        <Renderer text={text} />
      ) : (
        <Suspense fallback={<PlainText text={text} />}>
          <LazyRenderer text={text} />
        </Suspense>
      )}
    </div>
  );
});
