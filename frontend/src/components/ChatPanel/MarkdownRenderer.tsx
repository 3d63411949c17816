/**
 * The Markdown renderer (a lazy chunk: see Markdown.tsx). GFM tables, task lists,
 * strikethrough and autolinks; raw HTML in an answer is shown as text, never executed
 * (no rehype-raw; react-markdown turns `raw` nodes into text); link and image URLs pass
 * react-markdown's default `urlTransform`, which drops `javascript:` and the like.
 */
import type { Element, ElementContent } from 'hast';
import type { ReactNode } from 'react';
import ReactMarkdown, { type Components } from 'react-markdown';
import remarkGfm from 'remark-gfm';
import { CodeBlock } from './CodeBlock';

const remarkPlugins = [remarkGfm];

function textOf(nodes: ElementContent[]): string {
  let out = '';
  for (const n of nodes) {
    if (n.type === 'text') out += n.value;
    else if (n.type === 'element') out += textOf(n.children);
  }
  return out;
}

const components: Components = {
  pre({ node }) {
    const code = node?.children.find((c): c is Element => c.type === 'element' && c.tagName === 'code');
    if (!code) return <pre>{node ? textOf(node.children) : null}</pre>;
    const className = code.properties.className;
    const classes = Array.isArray(className) ? className.map(String) : typeof className === 'string' ? [className] : [];
    const language = classes.find((c) => c.startsWith('language-'))?.slice('language-'.length) ?? '';
    return <CodeBlock language={language} code={textOf(code.children).replace(/\n$/, '')} />;
  },
  a({ node: _node, children, href, ...rest }) {
    return (
      <a {...rest} href={href} target="_blank" rel="noopener noreferrer nofollow">
        {children}
      </a>
    );
  },
  table({ node: _node, children, ...rest }): ReactNode {
    return (
      <div className="md-table" tabIndex={0} role="region" aria-label="표">
        <table {...rest}>{children}</table>
      </div>
    );
  },
};

export default function MarkdownRenderer({ text }: { text: string }) {
  return (
    <ReactMarkdown remarkPlugins={remarkPlugins} components={components} skipHtml={false}>
      {text}
    </ReactMarkdown>
  );
}
