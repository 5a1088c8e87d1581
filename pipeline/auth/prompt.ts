import { UserError } from '../errors.js';

/** One line typed at the terminal, not echoed. Ctrl-C aborts; backspace edits. */
function promptHidden(question: string): Promise<string> {
  const stdin = process.stdin;
  process.stderr.write(question);
  return new Promise((resolve, reject) => {
    let typed = '';
    const done = (err: Error | null) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      if (err) reject(err);
      else resolve(typed);
    };
    const onData = (chunk: Buffer) => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n' || ch === '\u0003') {
          done(ch === '\u0003' ? new UserError('password: interrupted') : null);
          return;
        }
        if (ch === '\u007f' || ch === '\b') typed = [...typed].slice(0, -1).join('');
        else if (ch >= ' ') typed += ch;
      }
    };
    stdin.setRawMode(true);
    stdin.resume();
    stdin.on('data', onData);
  });
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * The new password for `earshot user add/passwd`: asked twice without echo at a terminal, else the
 * first line of stdin (`printf '%s\n' "$PW" | earshot user add ...`). Never from argv, where other
 * local users and shell history would see it.
 */
export async function readNewPassword(): Promise<string> {
  if (process.stdin.isTTY) {
    const first = await promptHidden('new password: ');
    const again = await promptHidden('again: ');
    if (first !== again) throw new UserError('password: the two entries differ; nothing was changed');
    return first;
  }
  const line = (await readStdin()).replace(/^\uFEFF/, '').split(/\r?\n/)[0] ?? '';
  if (line === '')
    throw new UserError(
      'password: nothing on stdin; type it at a terminal, or pipe it in: printf \'%s\\n\' "$PW" | earshot user add ...',
    );
  return line;
}
