/* text.c - tokenizer, stop words and Porter's stemmer (text.h). The
 * stemmer follows Porter's reference algorithm step by step: b[0..k] is
 * the word, j marks the end of the stem under test. */
#include "text.h"

#include <ctype.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void text_words(const char *s, size_t n, text_word_cb cb, void *ctx)
{
	char w[TEXT_MAX_WORD];
	size_t len = 0;

	for (size_t i = 0; i <= n; i++) {
		unsigned char ch = i < n ? (unsigned char)s[i] : 0;
		bool word = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			    (ch >= '0' && ch <= '9') || ch >= 0x80;

		if (word) {
			if (len < sizeof(w) - 1)
				w[len++] = (char)(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch);
			continue;
		}
		if (len) {
			w[len] = 0;
			cb(w, len, ctx);
			len = 0;
		}
	}
}

static const char *const stopwords[] = {
	"a", "about", "after", "again", "all", "also", "am", "an", "and", "any", "are", "as",
	"at", "be", "been", "before", "being", "between", "both", "but", "by", "can", "could",
	"did", "do", "does", "doing", "during", "each", "for", "from", "further", "had", "has",
	"have", "having", "he", "her", "here", "hers", "him", "his", "how", "i", "if", "in",
	"into", "is", "it", "its", "itself", "just", "me", "more", "most", "my", "no", "nor",
	"not", "of", "off", "on", "once", "only", "or", "other", "our", "ours", "out", "over",
	"own", "same", "she", "should", "so", "some", "such", "than", "that", "the", "their",
	"theirs", "them", "then", "there", "these", "they", "this", "those", "through", "to",
	"too", "under", "until", "up", "very", "was", "we", "were", "what", "when", "where",
	"which", "while", "who", "whom", "why", "will", "with", "would", "you", "your", "yours",
};

bool text_is_stopword(const char *w, size_t len)
{
	size_t lo = 0, hi = sizeof(stopwords) / sizeof(stopwords[0]);

	if (len > 8)
		return false;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(w, stopwords[mid]);
		if (!c)
			return true;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return false;
}

/* ---- Porter stemmer ------------------------------------------------------ */

struct stem {
	char *b;
	int k, j; /* end of word, end of stem */
};

static bool cons(const struct stem *z, int i)
{
	switch (z->b[i]) {
	case 'a': case 'e': case 'i': case 'o': case 'u': return false;
	case 'y': return i == 0 ? true : !cons(z, i - 1);
	default: return true;
	}
}

/* The number of vowel-consonant sequences in b[0..j]. */
static int measure(const struct stem *z)
{
	int n = 0, i = 0;

	for (;;) {
		if (i > z->j)
			return n;
		if (!cons(z, i))
			break;
		i++;
	}
	i++;
	for (;;) {
		for (;;) {
			if (i > z->j)
				return n;
			if (cons(z, i))
				break;
			i++;
		}
		i++;
		n++;
		for (;;) {
			if (i > z->j)
				return n;
			if (!cons(z, i))
				break;
			i++;
		}
		i++;
	}
}

static bool vowel_in_stem(const struct stem *z)
{
	for (int i = 0; i <= z->j; i++)
		if (!cons(z, i))
			return true;
	return false;
}

static bool double_cons(const struct stem *z, int j)
{
	return j >= 1 && z->b[j] == z->b[j - 1] && cons(z, j);
}

/* consonant-vowel-consonant ending at i, the last not w, x or y */
static bool cvc(const struct stem *z, int i)
{
	if (i < 2 || !cons(z, i) || cons(z, i - 1) || !cons(z, i - 2))
		return false;
	return z->b[i] != 'w' && z->b[i] != 'x' && z->b[i] != 'y';
}

static bool ends(struct stem *z, const char *s)
{
	int len = (int)strlen(s);

	if (len > z->k + 1 || memcmp(z->b + z->k - len + 1, s, (size_t)len))
		return false;
	z->j = z->k - len;
	return true;
}

static void set_to(struct stem *z, const char *s)
{
	int len = (int)strlen(s);

	memcpy(z->b + z->j + 1, s, (size_t)len);
	z->k = z->j + len;
}

static void replace_if_m(struct stem *z, const char *s)
{
	if (measure(z) > 0)
		set_to(z, s);
}

static void step1ab(struct stem *z)
{
	if (z->b[z->k] == 's') {
		if (ends(z, "sses"))
			z->k -= 2;
		else if (ends(z, "ies"))
			set_to(z, "i");
		else if (z->k >= 1 && z->b[z->k - 1] != 's')
			z->k--;
	}
	if (ends(z, "eed")) {
		if (measure(z) > 0)
			z->k--;
	} else if ((ends(z, "ed") || ends(z, "ing")) && vowel_in_stem(z)) {
		z->k = z->j;
		if (ends(z, "at"))
			set_to(z, "ate");
		else if (ends(z, "bl"))
			set_to(z, "ble");
		else if (ends(z, "iz"))
			set_to(z, "ize");
		else if (double_cons(z, z->k)) {
			z->k--;
			char ch = z->b[z->k];
			if (ch == 'l' || ch == 's' || ch == 'z')
				z->k++;
		} else if (z->j = z->k, measure(z) == 1 && cvc(z, z->k)) {
			set_to(z, "e");
		}
	}
}

static void step1c(struct stem *z)
{
	if (ends(z, "y") && vowel_in_stem(z))
		z->b[z->k] = 'i';
}

static void step2(struct stem *z)
{
	static const char *const pairs[][2] = {
		{ "ational", "ate" }, { "tional", "tion" }, { "enci", "ence" }, { "anci", "ance" },
		{ "izer", "ize" }, { "bli", "ble" }, { "alli", "al" }, { "entli", "ent" },
		{ "eli", "e" }, { "ousli", "ous" }, { "ization", "ize" }, { "ation", "ate" },
		{ "ator", "ate" }, { "alism", "al" }, { "iveness", "ive" }, { "fulness", "ful" },
		{ "ousness", "ous" }, { "aliti", "al" }, { "iviti", "ive" }, { "biliti", "ble" },
		{ "logi", "log" },
	};

	if (z->k < 1)
		return;
	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++)
		if (ends(z, pairs[i][0])) {
			replace_if_m(z, pairs[i][1]);
			return;
		}
}

static void step3(struct stem *z)
{
	static const char *const pairs[][2] = {
		{ "icate", "ic" }, { "ative", "" }, { "alize", "al" }, { "iciti", "ic" },
		{ "ical", "ic" }, { "ful", "" }, { "ness", "" },
	};

	for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++)
		if (ends(z, pairs[i][0])) {
			replace_if_m(z, pairs[i][1]);
			return;
		}
}

static void step4(struct stem *z)
{
	static const char *const suffixes[] = {
		"al", "ance", "ence", "er", "ic", "able", "ible", "ant", "ement", "ment", "ent",
		"ion", "ou", "ism", "ate", "iti", "ous", "ive", "ize",
	};
	bool hit = false;

	if (z->k < 1)
		return;
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]) && !hit; i++) {
		if (!ends(z, suffixes[i]))
			continue;
		hit = true;
		/* "ion" only after s or t */
		if (!strcmp(suffixes[i], "ion") && (z->j < 0 || (z->b[z->j] != 's' && z->b[z->j] != 't')))
			return;
	}
	if (hit && measure(z) > 1)
		z->k = z->j;
}

static void step5(struct stem *z)
{
	z->j = z->k;
	if (z->b[z->k] == 'e') {
		int a = measure(z);
		if (a > 1 || (a == 1 && !cvc(z, z->k - 1)))
			z->k--;
	}
	if (z->b[z->k] == 'l' && double_cons(z, z->k) && measure(z) > 1)
		z->k--;
}

static size_t stem_run(char *w, size_t len)
{
	struct stem z = { w, (int)len - 1, 0 };

	step1ab(&z);
	if (z.k > 0) {
		step1c(&z);
		step2(&z);
		step3(&z);
		step4(&z);
		step5(&z);
	}
	w[z.k + 1] = 0;
	return (size_t)z.k + 1;
}

/* The stems of recent words, one cache per thread: ingestion and index
 * building stem the same few thousand words over and over, and Porter's
 * suffix tests cost several times a lookup. Direct-mapped by an FNV-1a
 * hash; longer words are stemmed every time. Allocated at a thread's
 * first stem, freed at its exit; without memory it stems uncached. */
#define STEM_SLOTS 2048
#define STEM_WORD 22

struct stem_slot {
	unsigned char len, stem_len; /* len 0: empty */
	char word[STEM_WORD], stem[STEM_WORD];
};

static pthread_key_t stem_key;
static pthread_once_t stem_once = PTHREAD_ONCE_INIT;
static bool stem_key_ok;
static __thread struct stem_slot *stem_cache;

/* Thread exit; a later destructor that stems allocates a new cache. */
static void stem_cache_free(void *p)
{
	free(p);
	stem_cache = NULL;
}

static void stem_key_make(void)
{
	stem_key_ok = !pthread_key_create(&stem_key, stem_cache_free);
}

static struct stem_slot *stem_slot_for(const char *w, size_t len)
{
	uint32_t h = 2166136261u;

	if (!stem_cache) {
		pthread_once(&stem_once, stem_key_make);
		if (!stem_key_ok || !(stem_cache = calloc(STEM_SLOTS, sizeof(*stem_cache))))
			return NULL;
		pthread_setspecific(stem_key, stem_cache);
	}
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)w[i]) * 16777619u;
	return &stem_cache[h % STEM_SLOTS];
}

size_t text_stem(char *w, size_t len)
{
	struct stem_slot *slot;
	size_t n;

	if (len <= 2)
		return len;
	for (size_t i = 0; i < len; i++)
		if (w[i] < 'a' || w[i] > 'z')
			return len;
	if (len > STEM_WORD || !(slot = stem_slot_for(w, len)))
		return stem_run(w, len);
	if (slot->len == len && !memcmp(slot->word, w, len)) {
		memcpy(w, slot->stem, slot->stem_len);
		w[slot->stem_len] = 0;
		return slot->stem_len;
	}
	memcpy(slot->word, w, len);
	n = stem_run(w, len); /* a stem is never longer than its word */
	slot->len = (unsigned char)len;
	slot->stem_len = (unsigned char)n;
	memcpy(slot->stem, w, n);
	return n;
}

void text_sentences(const char *s, text_sentence_cb cb, void *ctx)
{
	for (const char *p = s; s; p++) {
		bool stop = !*p || *p == '\n' ||
			    ((*p == '.' || *p == '!' || *p == '?') &&
			     (!p[1] || isspace((unsigned char)p[1])));
		if (!stop)
			continue;
		size_t len = (size_t)(p - s) + (*p && *p != '\n');
		while (len && isspace((unsigned char)*s)) {
			s++;
			len--;
		}
		if (len && cb(ctx, s, len))
			return;
		if (!*p)
			return;
		s = p + 1;
	}
}

size_t text_word_count(const char *s, size_t len)
{
	size_t n = 0;
	bool in = false;

	for (size_t i = 0; i < len; i++) {
		bool sp = isspace((unsigned char)s[i]);
		if (!sp && !in)
			n++;
		in = !sp;
	}
	return n;
}
