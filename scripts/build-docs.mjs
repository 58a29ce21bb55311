// Build step after scripts/build.mjs: the man pages dist/man/xmlfix.1 and dist/man/passthru.8 and the
// bash completions dist/completion/{xmlfix,passthru}, all from one source each:
//   - the prose is Markdown in man/*.md; its <!-- usage: PROGRAM --> and <!-- commands: PROGRAM -->
//     lines are filled with the built programs' own --help (every command and option as the program
//     states it), then marked-man renders the page to roff;
//   - the completions list the commands and options that same --help states.
// marked-man: a small, maintained wrapper of marked (the most used Markdown parser) that writes roff
// from ronn-style Markdown; a page is written once, in Markdown, and never as roff by hand.
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { optionNames, parseCommanderHelp, usageOptions } from './help-text.mjs';

const run = promisify(execFile);
const version = JSON.parse(readFileSync('package.json', 'utf8')).version;
const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', LC_ALL: 'C' };
const help = async (program, args) =>
  (await run(process.execPath, [join('dist', `${program}.js`), ...args, '--help'], { env })).stdout;

/** passthru's commands as a tree, each node with its parsed --help. */
async function commanderTree(path = []) {
  const parsed = parseCommanderHelp(await help('passthru', path));
  const names = (parsed.sections.Commands ?? []).map((c) => c.term.split(' ')[0]).filter((n) => n !== 'help');
  return { path, help: parsed, children: await Promise.all(names.map((n) => commanderTree([...path, n]))) };
}

const flatten = (node) => [node, ...node.children.flatMap(flatten)];
const escapeMd = (s) => s.replace(/([\\`*_<>[\]])/g, '\\$1');

function commandsMarkdown(tree) {
  return flatten(tree)
    .slice(1)
    .map((n) => {
      const opts = (n.help.sections.Options ?? []).filter((o) => !o.term.includes('--help'));
      const args = n.help.sections.Arguments ?? [];
      return [
        `### ${escapeMd(n.help.usage)}`,
        '',
        escapeMd(n.help.description),
        '',
        ...[...args, ...opts].map((o) => `* \`${o.term}\`:\n  ${escapeMd(o.description)}`),
        '',
      ].join('\n');
    })
    .join('\n');
}

const indentBlock = (text) =>
  text
    .replace(/\n+$/, '')
    .split('\n')
    .map((l) => `    ${l}`)
    .join('\n');

async function manPage(source, fill, out) {
  let md = readFileSync(source, 'utf8');
  md = md.replace(/^<!-- (usage|commands|options): (\w+) -->$/gm, (_, what, program) => fill[`${what}:${program}`]);
  const bin = join(dirname(createRequire(import.meta.url).resolve('marked-man/package.json')), 'bin', 'marked-man.js');
  const child = execFile(
    process.execPath,
    [bin, '--no-breaks', '--version', `passthru ${version}`, '--manual', 'passthru'],
    {
      env: { ...env, ...(process.env.SOURCE_DATE_EPOCH ? { SOURCE_DATE_EPOCH: process.env.SOURCE_DATE_EPOCH } : {}) },
    },
  );
  child.stdin.end(md);
  let roff = '';
  child.stdout.on('data', (d) => {
    roff += d;
  });
  const code = await new Promise((resolve) => child.on('close', resolve));
  if (code !== 0 || !roff.startsWith('.')) throw new Error(`marked-man failed on ${source} (exit ${code})`);
  writeFileSync(out, roff);
}

/**
 * A bash completion for one program: its (sub)commands and their options, keyed by the command path
 * ("passthru sim"). After an option that takes a value, and for file arguments, bash completes paths.
 */
function bashCompletion(program, nodes, filesAtTop) {
  const fn = `_${program}`;
  const table = (name, pick) =>
    `declare -gA ${fn}_${name}=(\n${nodes.map((n) => `  [${JSON.stringify(n.key)}]=${JSON.stringify(pick(n).join(' '))}`).join('\n')}\n)`;
  return `# bash completion for ${program} (generated from its --help by passthru's build). Copy this file
# into /etc/bash_completion.d/ (bash-completion reads it), or source it from ~/.bashrc.
${table('commands', (n) => n.commands)}
${table('options', (n) => n.options)}
${table('valued', (n) => n.valued)}
${fn}() {
  local cur=\${COMP_WORDS[COMP_CWORD]} prev=\${COMP_WORDS[COMP_CWORD-1]} path=${program} word i skip=
  for ((i = 1; i < COMP_CWORD; i++)); do
    word=\${COMP_WORDS[i]}
    if [[ -n $skip ]]; then skip=; continue; fi
    if [[ " \${${fn}_valued[$path]} " == *" $word "* ]]; then skip=1; continue; fi
    if [[ $word != -* && " \${${fn}_commands[$path]} " == *" $word "* ]]; then path="$path $word"; fi
  done
  if [[ " \${${fn}_valued[$path]} " == *" $prev "* ]]; then
    COMPREPLY=($(compgen -f -- "$cur"))
  elif [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "\${${fn}_options[$path]}" -- "$cur"))
  else
    COMPREPLY=($(compgen -W "\${${fn}_commands[$path]}" -- "$cur"))${filesAtTop ? `\n    [[ $path == ${program} ]] && COMPREPLY+=($(compgen -f -- "$cur"))` : ''}
  fi
}
complete -o default -F ${fn} ${program}
`;
}

function completionNode(node) {
  const options = (node.help.sections.Options ?? []).map((o) => optionNames(o.term));
  return {
    key: ['passthru', ...node.path].join(' '),
    commands: node.children.map((c) => c.path.at(-1)),
    options: options.flatMap((o) => o.names),
    valued: options.filter((o) => o.takesValue).flatMap((o) => o.names),
  };
}

const [tree, xmlfixUsage] = await Promise.all([commanderTree(), help('xmlfix', [])]);
const globalOptions = (tree.help.sections.Options ?? []).filter((o) => !o.term.includes('--help'));
mkdirSync('dist/man', { recursive: true });
mkdirSync('dist/completion', { recursive: true });
const fill = {
  'usage:xmlfix': indentBlock(xmlfixUsage),
  'commands:passthru': commandsMarkdown(tree),
  'options:passthru': globalOptions.map((o) => `* \`${o.term}\`:\n  ${escapeMd(o.description)}`).join('\n'),
};
await Promise.all([
  manPage('man/xmlfix.1.md', fill, 'dist/man/xmlfix.1'),
  manPage('man/passthru.8.md', fill, 'dist/man/passthru.8'),
]);
writeFileSync('dist/completion/passthru', bashCompletion('passthru', flatten(tree).map(completionNode), false));
const xmlfixOptions = usageOptions(xmlfixUsage);
const xmlfixNode = (key, commands) => ({
  key,
  commands,
  options: xmlfixOptions.map((o) => o.name),
  valued: xmlfixOptions.filter((o) => o.takesValue).map((o) => o.name),
});
writeFileSync(
  'dist/completion/xmlfix',
  bashCompletion('xmlfix', [xmlfixNode('xmlfix', ['pool']), xmlfixNode('xmlfix pool', [])], true),
);
