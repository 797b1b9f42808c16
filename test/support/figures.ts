/**
 * The figures a hostile-member test measures (deliveries under attack, bytes reflected,
 * links torn), printed beside its result so a run shows what the defence achieved, not only
 * that it held. `npm test` prints them; nothing asserts on the printing.
 */
export function figure(label: string, value: string | number): void {
  process.stdout.write(`\n    figure: ${label}: ${value}`);
}
