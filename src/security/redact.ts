/** Defence in depth for S4: anything that looks like a CPR number is masked before it is written out. */
import { isValidCpr } from '../model/cpr';

// Ten digits, optionally DDMMYY-SSSS — with a hyphen, a dash or a space between, as people write
// them, and the date's day, month and year apart too (`01 01 80-1234`, `01.01.80 1234`) — not inside
// a longer run of digits; a letter next to them does not hide them (`x0101801234`, `a-0101801234`).
const CPR_LIKE = /(?<!\d)(\d{2})[-\s.\u2010-\u2015]?(\d{2})[-\s.\u2010-\u2015]?(\d{2})[-\s\u2010-\u2015]?(\d{4})(?!\d)/g;

// An id as the service makes them (a UUID): its digit groups often look like a CPR number
// (`c96e8d09-4707-4962-…`), so inside one only a number whose date exists is masked — masking the rest
// broke the ids and links in problems and log lines, and a real CPR number hidden in one is still masked.
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi;

function mask(text: string): string {
  const ids = [...text.matchAll(UUID)].map((id) => [id.index, id.index + id[0].length] as const);
  return text.replace(CPR_LIKE, (match, dd: string, mm: string, yy: string, serial: string, at: number) =>
    ids.some(([start, end]) => at >= start && at + match.length <= end) && !isValidCpr(`${dd}${mm}${yy}${serial}`) ? match : '[cpr]',
  );
}

// Invisible format characters (zero-width space, soft hyphen, word joiner …) a reader does not see,
// and digits in other forms (full-width ０１, mathematical 𝟎𝟏) NFKC turns into 0–9.
const INVISIBLE = /\p{Cf}/gu;
const ASCII_ONLY = /^[\x00-\x7f]*$/;

/** The text as a reader sees it: no invisible characters, compatibility forms folded (NFKC). */
function skeleton(text: string): string {
  return text.replace(INVISIBLE, '').normalize('NFKC');
}

export function redactCpr(text: string): string {
  const masked = mask(text);
  if (ASCII_ONLY.test(masked)) return masked;
  // A number hidden by invisible characters or odd digits is masked in the folded text, which then
  // stands for the original: a masked line reads the same to a person, less one hidden character.
  const bare = skeleton(masked);
  if (bare === masked) return masked;
  const bareMasked = mask(bare);
  return bareMasked === bare ? masked : bareMasked;
}

/**
 * The text as a reader of it would see it: percent-decoded (a URL), with JSON's \u escapes undone (a
 * body), and without invisible characters or compatibility digits.
 */
function decodedForms(text: string): string[] {
  const forms = [text];
  if (/%[0-9a-f]{2}/i.test(text)) {
    try {
      forms.push(decodeURIComponent(text));
    } catch {
      forms.push(text.replace(/%([0-9a-f]{2})/gi, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16))));
    }
  }
  if (/\\u[0-9a-f]{4}/i.test(text)) forms.push(text.replace(/\\u([0-9a-f]{4})/gi, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16))));
  for (const form of [...forms]) if (!ASCII_ONLY.test(form)) forms.push(skeleton(form));
  return forms;
}

/**
 * True when the text holds a number that is a valid CPR number (its date exists), also where it is
 * written with escapes a reader would undo: what must never be stored or sent is refused.
 */
export function holdsCprNumber(text: string): boolean {
  for (const form of decodedForms(text)) for (const match of form.matchAll(CPR_LIKE)) if (isValidCpr(`${match[1]}${match[2]}${match[3]}${match[4]}`)) return true;
  return false;
}
