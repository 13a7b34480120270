/* text.h - words for retrieval: tokenizing, stop words and the Porter
 * stemmer, shared by the offline embedder and the extractive answerer so
 * both see the same terms SQLite FTS5's "porter unicode61" indexes. */
#ifndef DESKFS_TEXT_H
#define DESKFS_TEXT_H

#include <stdbool.h>
#include <stddef.h>

#define TEXT_MAX_WORD 64

/* Calls cb for each word of [s, s+n): runs of ASCII letters and digits
 * and of non-ASCII UTF-8 bytes, lower-cased, cut at TEXT_MAX_WORD - 1
 * bytes, NUL-terminated in a buffer valid during the call. */
typedef void (*text_word_cb)(char *word, size_t len, void *ctx);
void text_words(const char *s, size_t n, text_word_cb cb, void *ctx);

/* Calls cb for each sentence of s (NUL-terminated): a sentence ends at a
 * newline, or after '.', '!' or '?' followed by white space or the end.
 * Leading white space is left out, empty sentences too; stops when cb
 * returns true. */
typedef bool (*text_sentence_cb)(void *ctx, const char *s, size_t len);
void text_sentences(const char *s, text_sentence_cb cb, void *ctx);

/* Runs of non-white-space bytes in [s, s+len). */
size_t text_word_count(const char *s, size_t len);

/* True for common English function words ("the", "is", "of", ...). */
bool text_is_stopword(const char *w, size_t len);

/* Stems w in place with Porter's 1980 algorithm (as FTS5's porter
 * tokenizer does); w is lower-case and NUL-terminated. Words that are not
 * plain ASCII letters are left alone. Returns the new length. Stems of
 * words up to 22 bytes are cached per thread (text.c). */
size_t text_stem(char *w, size_t len);

#endif
