/* test_retrieve.c - Porter stemmer, the embedder config, offline embedder. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "embed.h"
#include "retrieve.h"
#include "text.h"

static int fails, checks;

static void check_str(const char *what, const char *got, const char *want)
{
	checks++;
	if (strcmp(got ? got : "(null)", want ? want : "(null)")) {
		fails++;
		fprintf(stderr, "FAIL %s: got [%s], want [%s]\n", what, got ? got : "(null)",
			want ? want : "(null)");
	}
}

static void check(const char *what, int ok)
{
	checks++;
	if (!ok) {
		fails++;
		fprintf(stderr, "FAIL %s\n", what);
	}
}

int main(void)
{
	/* pairs from Porter's published vocabulary/output lists */
	static const char *const pairs[][2] = {
		{ "caresses", "caress" }, { "ponies", "poni" }, { "ties", "ti" },
		{ "cats", "cat" }, { "feed", "feed" }, { "agreed", "agre" },
		{ "plastered", "plaster" }, { "motoring", "motor" }, { "sing", "sing" },
		{ "conflated", "conflat" }, { "troubled", "troubl" }, { "sized", "size" },
		{ "hopping", "hop" }, { "falling", "fall" }, { "filing", "file" },
		{ "happy", "happi" }, { "relational", "relat" }, { "conditional", "condit" },
		{ "rational", "ration" }, { "digitizer", "digit" }, { "operator", "oper" },
		{ "generalization", "gener" }, { "hopefulness", "hope" }, { "formaliti", "formal" },
		{ "triplicate", "triplic" }, { "electrical", "electr" }, { "revival", "reviv" },
		{ "adjustment", "adjust" }, { "adoption", "adopt" }, { "controll", "control" },
		{ "roll", "roll" }, { "probate", "probat" }, { "rate", "rate" },
		{ "connections", "connect" }, { "login", "login" }, { "passwords", "password" },
		{ "crashing", "crash" }, { "2024", "2024" }, { "as", "as" },
	};
	/* three rounds: the first fills the stem cache, the later ones are
	 * answered from it, each pair between 60 other words that evict and
	 * collide (2048 slots) */
	for (int round = 0; round < 3; round++)
		for (size_t i = 0; i < sizeof(pairs) / sizeof(pairs[0]); i++) {
			char w[TEXT_MAX_WORD];
			snprintf(w, sizeof(w), "%s", pairs[i][0]);
			text_stem(w, strlen(w));
			check_str(pairs[i][0], w, pairs[i][1]);
			for (int k = 0; k < 60; k++) {
				static const char cons[] = "bcdfghjklmnpqrstvwxz", vow[] = "aeiou";
				unsigned x = (unsigned)(round * 7919 + i * 60 + k) * 2654435761u;
				/* CVCV + "rations" stems to CVCV + "r" (m > 1) */
				snprintf(w, sizeof(w), "%c%c%c%crations", cons[x % 20], vow[x / 20 % 5],
					 cons[x / 100 % 20], vow[x / 2000 % 5]);
				text_stem(w, strlen(w));
				check("churn word stems to CVCVr", strlen(w) == 5 && w[4] == 'r');
			}
		}
	check("stopword the", text_is_stopword("the", 3));
	check("stopword which", text_is_stopword("which", 5));
	check("not stopword vpn", !text_is_stopword("vpn", 3));

	/* the embedder in TENANT/config */
	struct tenant_config c, c2;
	char err[256], mb[EMBED_MODEL_MAX];
	const char *good = "{\"embedder\": {\"api\": \"ollama\", \"model\": \"nomic-embed-text\","
			   " \"endpoint\": \"http://127.0.0.1:11434/\", \"api_key\": \"k1\", \"batch\": 16}}";
	check("embedder parses", config_parse(good, strlen(good), NULL, &c, err, sizeof(err)) == 0);
	check_str("embedder model id", config_embed_model(&c.embedder, mb, sizeof(mb)),
		  "ollama:nomic-embed-text");
	check_str("endpoint trimmed", c.embedder.endpoint, "http://127.0.0.1:11434");
	check("batch", c.embedder.batch == 16);
	char *shown = config_render(&c, false);
	check("key masked", shown && !strstr(shown, "k1") && strstr(shown, "\"api_key\": \"***\""));
	check("masked config parses back", shown &&
	      config_parse(shown, strlen(shown), &c, &c2, err, sizeof(err)) == 0);
	check_str("stored key kept", c2.embedder.api_key, "k1");
	free(shown);
	config_clear(&c2);
	config_clear(&c);
	const char *bad_api = "{\"embedder\": {\"api\": \"anthropic\", \"model\": \"m\"}}";
	check("anthropic cannot embed",
	      config_parse(bad_api, strlen(bad_api), NULL, &c, err, sizeof(err)) == -EINVAL);
	check_str("why", err, "embedder.api: must be one of openai, ollama, offline");
	const char *bad_key = "{\"embedder\": {\"api\": \"openai\", \"model\": \"m\", \"max_tokens\": 5}}";
	check("max_tokens is not an embedder key",
	      config_parse(bad_key, strlen(bad_key), NULL, &c, err, sizeof(err)) == -EINVAL);
	check("named", strstr(err, "embedder.unknown key 'max_tokens'") != NULL);
	check("defaults: offline embedder", config_parse("", 0, NULL, &c, err, sizeof(err)) == 0 &&
	      !strcmp(config_embed_model(&c.embedder, mb, sizeof(mb)), EMBED_OFFLINE_MODEL));
	config_clear(&c);

	struct embedder *e = embed_offline();
	const char *texts[] = { "the VPN disconnects every hour", "VPN disconnecting hourly",
				"invoice refund for order 42", "" };
	float v[4][EMBED_OFFLINE_DIM];
	check("embed ok", e->embed(e, texts, 4, &v[0][0]) == 0);
	double n0 = 0, d01 = 0, d02 = 0, n3 = 0;
	for (int i = 0; i < e->dim; i++) {
		n0 += v[0][i] * v[0][i];
		d01 += v[0][i] * v[1][i];
		d02 += v[0][i] * v[2][i];
		n3 += fabsf(v[3][i]);
	}
	check("unit length", fabs(n0 - 1) < 1e-4);
	check("related closer than unrelated", d01 > d02 + 0.2);
	check("empty text: zero vector", n3 == 0);
	float again[EMBED_OFFLINE_DIM];
	e->embed(e, texts, 1, again);
	check("deterministic", !memcmp(again, v[0], sizeof(again)));
	int8_t q[EMBED_OFFLINE_DIM];
	float scale;
	vec_quantize(v[1], e->dim, q, &scale);
	check("int8 dot close to float dot", fabs(vec_dot_q8(v[0], q, scale, e->dim) - d01) < 0.02);

	printf("%d checks, %d failed\n", checks, fails);
	return fails != 0;
}
