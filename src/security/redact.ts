/** Defence in depth for S4: anything that looks like a CPR number is masked before it is written out. */

const CPR_LIKE = /(?<!\d)(\d{6})-?(\d{4})(?!\d)/g;

export function redactCpr(text: string): string {
  return text.replace(CPR_LIKE, '[cpr]');
}
