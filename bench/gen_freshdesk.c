/* gen_freshdesk - writes N Freshdesk API v2 style tickets (with embedded
 * conversations: 2-10 messages, HTML bodies) as one JSON file each.
 *   gen_freshdesk N OUTDIR [FIRST_ID] [SEED]
 * Deterministic for a given seed. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "vocab.h"

static void sentence(FILE *f, int n)
{
	for (int i = 0; i < n; i++)
		fprintf(f, "%s%s", i ? " " : "", words[rnd(NWORDS)]);
}

static void html_body(FILE *f, int paragraphs)
{
	for (int p = 0; p < paragraphs; p++) {
		fputs("<p>", f);
		sentence(f, 10 + (int)rnd(40));
		fputs(".</p>", f);
	}
}

static void text_body(FILE *f, int paragraphs, unsigned long long seed)
{
	unsigned long long saved = state;

	state = seed;
	for (int p = 0; p < paragraphs; p++) {
		if (p)
			fputs("\\n\\n", f);
		sentence(f, 10 + (int)rnd(40));
		fputc('.', f);
	}
	state = saved;
}

int main(int argc, char **argv)
{
	long n, first;
	char path[4096];

	if (argc < 3) {
		fprintf(stderr, "usage: gen_freshdesk N OUTDIR [FIRST_ID] [SEED]\n");
		return 2;
	}
	n = atol(argv[1]);
	first = argc > 3 ? atol(argv[3]) : 1;
	state = argc > 4 ? strtoull(argv[4], NULL, 10) : 42;
	mkdir(argv[2], 0755);
	for (long i = 0; i < n; i++) {
		long id = first + i;
		long t0 = 1700000000L + id * 600;
		int msgs = 2 + (int)rnd(9), paras = 1 + (int)rnd(3);
		unsigned long long seed;
		FILE *f;

		snprintf(path, sizeof(path), "%s/ticket-%ld.json", argv[2], id);
		if (!(f = fopen(path, "w"))) {
			perror(path);
			return 1;
		}
		fprintf(f, "{\n  \"id\": %ld,\n  \"subject\": \"", id);
		sentence(f, 4 + (int)rnd(6));
		fprintf(f, "\",\n  \"status\": %u,\n  \"priority\": %u,\n  \"requester_id\": %u,\n"
			"  \"responder_id\": %u,\n  \"group_id\": %u,\n  \"type\": \"Incident\",\n"
			"  \"source\": 2,\n  \"tags\": [\"%s\"],\n",
			2 + rnd(4), 1 + rnd(4), 1000 + rnd(500), 40 + rnd(20), 1 + rnd(8),
			words[rnd(40)]);
		fprintf(f, "  \"created_at\": \"%s\",\n", "2023-11-14T22:13:20Z");
		fprintf(f, "  \"updated_at\": \"2023-11-15T10:00:00Z\",\n");
		seed = state;
		fputs("  \"description\": \"", f);
		state = seed;
		html_body(f, paras);
		fputs("\",\n  \"description_text\": \"", f);
		text_body(f, paras, seed);
		fputs("\",\n  \"custom_fields\": {\"cf_product\": \"deskfs\"},\n", f);
		fputs("  \"attachments\": [],\n  \"conversations\": [\n", f);
		for (int m = 1; m < msgs; m++) {
			int agent = m % 2;
			fprintf(f, "    {\"id\": %ld, \"ticket_id\": %ld, \"incoming\": %s, "
				"\"private\": %s, \"user_id\": %u, \"created_at\": "
				"\"2023-11-%02dT%02d:00:00Z\", \"body\": \"",
				id * 100 + m, id, agent ? "false" : "true",
				agent && rnd(5) == 0 ? "true" : "false", agent ? 40 : 1000,
				15 + m / 24, m % 24);
			seed = state;
			html_body(f, 1 + (int)rnd(3));
			fputs("\", \"body_text\": \"", f);
			state = seed;
			rnd(3);
			text_body(f, 1, seed);
			fprintf(f, "\", \"attachments\": []}%s\n", m + 1 < msgs ? "," : "");
		}
		fputs("  ]\n}\n", f);
		(void)t0;
		fclose(f);
	}
	return 0;
}
