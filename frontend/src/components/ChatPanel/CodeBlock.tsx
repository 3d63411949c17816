import CheckIcon from '@mui/icons-material/Check';
import ContentCopyIcon from '@mui/icons-material/ContentCopy';
import IconButton from '@mui/material/IconButton';
import { lazy, Suspense, useEffect, useRef, useState } from 'react';
import { copyText } from '../../lib/clipboard';

/** The syntax highlighter is loaded on the first code block only (its own chunk). */
const CodeHighlighter = lazy(() => import('./CodeHighlighter'));

function PlainCode({ code }: { code: string }) {
  return (
    <pre>
      <code>{code}</code>
    </pre>
  );
}

export function CodeBlock({ language, code }: { language: string; code: string }) {
  const [copied, setCopied] = useState(false);
  const timer = useRef<ReturnType<typeof setTimeout> | null>(null);
  useEffect(() => () => {
    if (timer.current) clearTimeout(timer.current);
  }, []);

  const onCopy = async () => {
    if (!(await copyText(code))) return;
    setCopied(true);
    if (timer.current) clearTimeout(timer.current);
    timer.current = setTimeout(() => setCopied(false), 2000);
  };

  return (
    <div className="code-block">
      <div className="code-block__bar">
        <span>{language || 'code'}</span>
        <IconButton
          size="small"
          onClick={() => void onCopy()}
          aria-label={copied ? '복사했습니다' : '코드 복사'}
          title="코드 복사"
          data-testid="copy-code-button"
          sx={{ color: 'inherit' }}
        >
          {copied ? <CheckIcon fontSize="inherit" /> : <ContentCopyIcon fontSize="inherit" />}
        </IconButton>
      </div>
      <Suspense fallback={<PlainCode code={code} />}>
        <CodeHighlighter language={language} code={code} />
      </Suspense>
    </div>
  );
}
