/**
 * Prism (light build) with the languages people ask about most, registered here: one
 * lazy chunk instead of react-syntax-highlighter's hundreds. Another language shows
 * unhighlighted.
 */
import PrismLight from 'react-syntax-highlighter/dist/esm/prism-light';
import bash from 'react-syntax-highlighter/dist/esm/languages/prism/bash';
import c from 'react-syntax-highlighter/dist/esm/languages/prism/c';
import cpp from 'react-syntax-highlighter/dist/esm/languages/prism/cpp';
import csharp from 'react-syntax-highlighter/dist/esm/languages/prism/csharp';
import css from 'react-syntax-highlighter/dist/esm/languages/prism/css';
import diff from 'react-syntax-highlighter/dist/esm/languages/prism/diff';
import docker from 'react-syntax-highlighter/dist/esm/languages/prism/docker';
import go from 'react-syntax-highlighter/dist/esm/languages/prism/go';
import java from 'react-syntax-highlighter/dist/esm/languages/prism/java';
import javascript from 'react-syntax-highlighter/dist/esm/languages/prism/javascript';
import json from 'react-syntax-highlighter/dist/esm/languages/prism/json';
import jsx from 'react-syntax-highlighter/dist/esm/languages/prism/jsx';
import kotlin from 'react-syntax-highlighter/dist/esm/languages/prism/kotlin';
import markdown from 'react-syntax-highlighter/dist/esm/languages/prism/markdown';
import markup from 'react-syntax-highlighter/dist/esm/languages/prism/markup';
import php from 'react-syntax-highlighter/dist/esm/languages/prism/php';
import python from 'react-syntax-highlighter/dist/esm/languages/prism/python';
import ruby from 'react-syntax-highlighter/dist/esm/languages/prism/ruby';
import rust from 'react-syntax-highlighter/dist/esm/languages/prism/rust';
import sql from 'react-syntax-highlighter/dist/esm/languages/prism/sql';
import swift from 'react-syntax-highlighter/dist/esm/languages/prism/swift';
import tsx from 'react-syntax-highlighter/dist/esm/languages/prism/tsx';
import typescript from 'react-syntax-highlighter/dist/esm/languages/prism/typescript';
import yaml from 'react-syntax-highlighter/dist/esm/languages/prism/yaml';
import oneDark from 'react-syntax-highlighter/dist/esm/styles/prism/one-dark';

const languages: Record<string, unknown> = {
  bash, c, cpp, csharp, css, diff, docker, go, java, javascript, json, jsx, kotlin,
  markdown, markup, php, python, ruby, rust, sql, swift, tsx, typescript, yaml,
};
for (const [name, grammar] of Object.entries(languages)) PrismLight.registerLanguage(name, grammar);

const ALIASES: Record<string, string> = {
  js: 'javascript', mjs: 'javascript', cjs: 'javascript', ts: 'typescript', py: 'python',
  sh: 'bash', shell: 'bash', zsh: 'bash', console: 'bash', html: 'markup', xml: 'markup', svg: 'markup',
  yml: 'yaml', md: 'markdown', 'c++': 'cpp', cs: 'csharp', dockerfile: 'docker', rb: 'ruby', rs: 'rust',
  kt: 'kotlin', golang: 'go',
};

export default function CodeHighlighter({ language, code }: { language: string; code: string }) {
  const lang = ALIASES[language.toLowerCase()] ?? language.toLowerCase();
  return (
    <PrismLight language={lang in languages ? lang : 'text'} style={oneDark} PreTag="pre" wrapLongLines={false}>
      {code}
    </PrismLight>
  );
}
