/**
 * Every string in a JSON value, depth first: message contents, embed titles and fields, button labels, modal titles,
 * custom ids... For "no secret ever left the bot" assertions, anything the bot sent counts.
 */
export function stringsIn(value: unknown, into: string[] = []): string[] {
  if (typeof value === 'string') {
    into.push(value);
  } else if (Array.isArray(value)) {
    for (const item of value) stringsIn(item, into);
  } else if (typeof value === 'object' && value !== null) {
    for (const item of Object.values(value)) stringsIn(item, into);
  }
  return into;
}
