/* html_text.h - HTML to clean, Markdown-flavoured text.
 *
 * Tags are dropped, entities decoded (named, decimal, hex), block elements
 * become paragraphs separated by one blank line, <br> a line break, list
 * items "- item" / "1. item", headings "# ...", links "[text](url)" (just
 * the url when the text equals it), <pre> kept verbatim, <script>,
 * <style>, <head> and comments removed, runs of white space folded.
 * The result has no leading or trailing blank lines.
 */
#ifndef DESKFS_HTML_TEXT_H
#define DESKFS_HTML_TEXT_H

#include <stddef.h>

/* Returns a malloc'd NUL-terminated UTF-8 string the caller frees, or NULL
 * on allocation failure. Never fails on malformed HTML. */
char *html_to_text(const char *html, size_t len);
/* Heuristic: true if s looks like HTML (has tags such as <p>, <div>, <br>,
 * <html>). */
int html_looks_like(const char *s, size_t len);

#endif
