const usdFormat = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' });

/** "$1,234.50": how every estimate, budget and limit is shown. */
export function formatUsd(amount: number): string {
  return usdFormat.format(amount);
}

/** An amount in US dollars rounded to whole cents, as every estimate is kept. */
export function roundToCents(usd: number): number {
  return Math.round(usd * 100) / 100;
}
