/** Defence in depth for S4: anything that looks like a CPR number is masked before it is written out. */

// Ten digits, optionally DDMMYY-SSSS, not inside a longer run of digits; a letter next to them does
// not hide them (`x0101801234`, an element named `a-0101801234`).
const CPR_LIKE = /(?<!\d)(\d{6})-?(\d{4})(?!\d)/g;

export function redactCpr(text: string): string {
  return text.replace(CPR_LIKE, '[cpr]');
}
