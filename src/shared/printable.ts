// Payload values reach trig's text output (an `--explain` reason quotes the branch or repo
// that did not match). Sent to a terminal, a value holding ESC or BEL could rewrite the
// screen or the window title, and one holding a line break could print a line that looks
// like trig's own ("…: matched"). Such characters are shown as escapes instead.

// C0 controls but tab and line feed, DEL, and C1 controls.
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g;
// The same, and line feed: for text that is one line of trig's output.
const CONTROL_OR_NEWLINE = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/g;

const escape = (c: string) => (c === '\n' ? '\\n' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

/** `text` with every control character a terminal acts on shown as an escape; line breaks kept. */
export function printable(text: string): string {
  return text.replace(CONTROL, escape);
}

/** `text` as one line of output: control characters and line breaks shown as escapes. */
export function oneLine(text: string): string {
  return text.replace(CONTROL_OR_NEWLINE, escape);
}

/** Every string inside `value` made printable (see printable), keys included. */
export function printableDeep<T>(value: T): T {
  const visit = (v: unknown): unknown => {
    if (typeof v === 'string') return printable(v);
    if (Array.isArray(v)) return v.map(visit);
    if (typeof v === 'object' && v !== null) return Object.fromEntries(Object.entries(v).map(([k, child]) => [printable(k), visit(child)]));
    return v;
  };
  return visit(value) as T;
}
