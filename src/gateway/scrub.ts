// The last guard on what a client reads: no internal URL or host:port in an error message or
// header, whatever produced it (a peer of another release, a library's own error text). Pure.

// scheme://anything up to whitespace or a quote; [v6]:port, IPv4:port, localhost:port and
// dotted-host:port (a model tag such as `llama3.2:3b` has no all-digit port, so it stays).
const URL_TEXT = /\b[a-z][a-z0-9+.-]*:\/\/[^\s"'`<>)]+/gi;
const HOST_PORT =
  /\[[0-9a-f:.]+\]:\d{1,5}\b|\b(?:\d{1,3}\.){3}\d{1,3}:\d{1,5}\b|\blocalhost:\d{1,5}\b|\b(?:[a-z0-9-]+\.)+[a-z]{2,}:\d{1,5}\b/gi;

/** The text with every URL and host:port replaced by a neutral word. */
export function withoutAddresses(text: string): string {
  return text.replace(URL_TEXT, '<internal address>').replace(HOST_PORT, '<internal address>');
}

/** True when the text names a URL or a host:port (what tests scan for). */
export function namesAddress(text: string): boolean {
  return new RegExp(URL_TEXT.source, 'i').test(text) || new RegExp(HOST_PORT.source, 'i').test(text);
}
