// --diff: a unified diff of what the edits change.
import { createTwoFilesPatch } from 'diff';

export function unifiedDiff(file: string, before: string, after: string): string {
  if (before === after) return '';
  const name = file === '-' ? 'stdin' : file.replace(/^\/+/, '');
  return createTwoFilesPatch(`a/${name}`, `b/${name}`, before, after, '', '', { context: 3 })
    .replace(/^(Index:.*\n)?=+\n/, '')
    .replace(/^(---|\+\+\+) (.*?)\t$/gm, '$1 $2');
}
