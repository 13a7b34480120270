/* summary.c - ticket summaries, extractive and by LLM providers (summary.h). */
#include "summary.h"

#include <ctype.h>
#include <errno.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "provider.h"
#include "text.h"
#include "util.h"

#define FIELD_CHARS 480  /* longest extractive field */

static const char *const field_names[] = { "problem", "cause", "solution", "result" };

static char **field(struct summary *s, int i)
{
	char **f[] = { &s->problem, &s->cause, &s->solution, &s->result };
	return f[i];
}

void summary_clear(struct summary *s)
{
	for (int i = 0; i < 4; i++) {
		free(*field(s, i));
		*field(s, i) = NULL;
	}
}

/* ---- the extractive summarizer -------------------------------------------- */

static bool starts_with_word(const char *s, size_t len, const char *const *words)
{
	for (size_t i = 0; words[i]; i++) {
		size_t n = strlen(words[i]);
		if (len >= n && !strncasecmp(s, words[i], n) &&
		    (len == n || !isalpha((unsigned char)s[n])))
			return true;
	}
	return false;
}

static bool contains_ci(const char *s, size_t len, const char *const *needles)
{
	for (size_t i = 0; needles[i]; i++) {
		size_t n = strlen(needles[i]);
		for (size_t k = 0; n <= len && k + n <= len; k++)
			if (!strncasecmp(s + k, needles[i], n))
				return true;
	}
	return false;
}

/* Pleasantries carry nothing a reader of a summary needs. */
static bool is_pleasantry(const char *s, size_t len)
{
	static const char *const openers[] = { "hi", "hello", "hey", "dear", "thanks", "thank you",
		"regards", "best regards", "kind regards", "cheers", "greetings", "good morning",
		"good afternoon", "good evening", "sincerely", "br", "please let", "let me know",
		"feel free", "hope this", "i hope", "have a", NULL };
	return len < 4 || starts_with_word(s, len, openers);
}

struct pick {
	struct strbuf out;
	int want, got;
	const char *const *cues; /* NULL: any sentence that is not a pleasantry */
	const char *skip;        /* a sentence to leave out (the subject), or NULL */
};

static bool pick_sentence(void *ctx, const char *s, size_t len)
{
	struct pick *p = ctx;

	while (len && isspace((unsigned char)s[len - 1]))
		len--;
	/* with cues, the cue decides ("Thanks, it works now!" confirms) */
	if ((p->cues ? !contains_ci(s, len, p->cues) : is_pleasantry(s, len)) ||
	    (p->skip && strlen(p->skip) == len && !strncasecmp(s, p->skip, len)))
		return false;
	if (p->out.len + len + 1 > FIELD_CHARS) {
		if (p->got)
			return true;
		len = util_utf8_cut(s, FIELD_CHARS - 3);
		strbuf_add(&p->out, s, len);
		strbuf_addstr(&p->out, "...");
		p->got++; /* a cut sentence is a picked one */
		return true;
	}
	if (p->got)
		strbuf_addch(&p->out, ' ');
	strbuf_add(&p->out, s, len);
	return ++p->got >= p->want;
}

/* Up to want sentences of text (with cues: only those containing one),
 * leaving out one equal to skip. */
static char *pick_but(const char *text, int want, const char *const *cues, const char *skip)
{
	struct pick p = { STRBUF_INIT, want, 0, cues, skip };

	if (text)
		text_sentences(text, pick_sentence, &p);
	if (!p.got) {
		strbuf_release(&p.out);
		return NULL;
	}
	return strbuf_detach(&p.out, NULL);
}

static char *pick(const char *text, int want, const char *const *cues)
{
	return pick_but(text, want, cues, NULL);
}

static bool agent_reply(const struct message *m)
{
	return m->role == ROLE_AGENT && m->is_public && m->text && *m->text;
}

static const char *status_or(const struct ticket *t)
{
	return t->status && *t->status ? t->status : "unknown";
}

int summary_extractive(const struct ticket *t, struct summary *out)
{
	static const char *const cause_cues[] = { "because", "caused by", "due to", "root cause",
		"the cause", "the issue was", "the problem was", "was the result of", "happened when",
		"was triggered", "is caused", "was caused", NULL };
	static const char *const thanks_cues[] = { "works", "working", "fixed", "resolved",
		"solved", "thank", NULL };
	const struct message *last_agent = NULL, *first_customer = NULL, *last = NULL;
	struct strbuf sb = STRBUF_INIT;
	char *first = NULL;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; i < t->n_msgs; i++) {
		const struct message *m = &t->msgs[i];
		if (!m->text || !*m->text)
			continue;
		if (!first_customer && m->role != ROLE_AGENT && m->role != ROLE_SYSTEM)
			first_customer = m;
		if (agent_reply(m))
			last_agent = m;
		last = m;
	}
	/* problem: the subject and the first customer words */
	first = pick_but(t->body_text && *t->body_text ? t->body_text :
			 first_customer ? first_customer->text : NULL, 2, NULL, t->subject);
	if (t->subject && *t->subject && first)
		strbuf_addf(&sb, "%s: %s", t->subject, first);
	else
		strbuf_addstr(&sb, first ? first : t->subject && *t->subject ? t->subject :
				   "No description given.");
	free(first);
	out->problem = strbuf_detach(&sb, NULL);
	/* cause: the first agent sentence (replies or notes) that gives one */
	for (size_t i = 0; i < t->n_msgs && !out->cause; i++)
		if (t->msgs[i].role == ROLE_AGENT)
			out->cause = pick(t->msgs[i].text, 1, cause_cues);
	if (!out->cause)
		out->cause = util_strdup(SUMMARY_NOT_STATED);
	/* solution: the last public agent reply */
	if (last_agent)
		out->solution = pick(last_agent->text, 2, NULL);
	if (!out->solution)
		out->solution = util_strdup(last_agent ? SUMMARY_NOT_STATED :
					    SUMMARY_NO_REPLY);
	/* result: the status, and the customer's last word when it confirms */
	const char *st = status_or(t);
	bool done = !strcmp(st, "solved") || !strcmp(st, "closed");
	if (!strcmp(st, "unknown"))
		strbuf_addstr(&sb, SUMMARY_NO_STATUS);
	else
		strbuf_addf(&sb, "%s (status: %s).", !strcmp(st, "deleted") ? "Deleted at the source" :
			    done ? "Resolved" : "Not resolved yet", st);
	if (last && last != last_agent && last->role == ROLE_CUSTOMER && last != first_customer) {
		char *said = pick(last->text, 1, thanks_cues);
		if (said)
			strbuf_addf(&sb, " The customer's last message: \"%s\"", said);
		free(said);
	}
	out->result = strbuf_detach(&sb, NULL);
	for (int i = 0; i < 4; i++)
		if (!*field(out, i)) {
			summary_clear(out);
			return -ENOMEM;
		}
	return 0;
}

/* ---- summaries by LLM providers ------------------------------------------- */

static const char system_prompt[] =
	"You summarize help-desk tickets for support agents. Reply with only a JSON object, "
	"no other text, with exactly these four string fields:\n"
	"  \"problem\": what the customer needed or what went wrong;\n"
	"  \"cause\": why it happened, as the ticket shows it;\n"
	"  \"solution\": what the agents did or advised;\n"
	"  \"result\": how it ended (resolved, pending, workaround...).\n"
	"Use one to three sentences per field. Do not invent facts: when the ticket does not "
	"say, write \"" SUMMARY_NOT_STATED "\"";

static const char merge_prompt[] =
	"These are summaries of consecutive parts of one help-desk ticket, in order. Merge them "
	"into one summary of the whole ticket.";

int summary_parse_reply(const char *text, struct summary *out, char *why, size_t whylen)
{
	json_error_t je;
	json_t *j = NULL;
	const char *p = text, *e;
	int rc = -EINVAL;

	memset(out, 0, sizeof(*out));
	while (isspace((unsigned char)*p))
		p++;
	if (!strncmp(p, "```", 3)) { /* a Markdown fence, with or without "json" */
		p += 3;
		while (*p && *p != '\n')
			p++;
	}
	e = p + strlen(p);
	while (e > p && isspace((unsigned char)e[-1]))
		e--;
	if (e - p >= 3 && !strncmp(e - 3, "```", 3))
		e -= 3;
	if (!(j = json_loadb(p, (size_t)(e - p), JSON_REJECT_DUPLICATES, &je))) {
		char *near = strstr(je.text, " near ");
		if (near)
			*near = 0;
		snprintf(why, whylen, "not a JSON object: %s", je.text);
		return -EINVAL;
	}
	if (!json_is_object(j)) {
		snprintf(why, whylen, "not a JSON object");
		goto out;
	}
	const char *key;
	json_t *v;
	json_object_foreach(j, key, v) {
		int i;
		for (i = 0; i < 4 && strcmp(key, field_names[i]); i++)
			;
		if (i == 4) {
			snprintf(why, whylen, "unexpected field \"%.40s\"", key);
			goto out;
		}
	}
	for (int i = 0; i < 4; i++) {
		v = json_object_get(j, field_names[i]);
		if (!v) {
			snprintf(why, whylen, "missing field \"%s\"", field_names[i]);
			goto out;
		}
		if (!json_is_string(v)) {
			snprintf(why, whylen, "field \"%s\" is not a string", field_names[i]);
			goto out;
		}
		if (!(*field(out, i) = util_strtrim(json_string_value(v), json_string_length(v)))) {
			rc = -ENOMEM;
			goto out;
		}
		if (!**field(out, i)) {
			snprintf(why, whylen, "field \"%s\" is empty", field_names[i]);
			goto out;
		}
	}
	rc = 0;
out:
	json_decref(j);
	if (rc)
		summary_clear(out);
	return rc;
}

char *summary_to_json(const struct summary *s)
{
	json_t *j = json_pack("{s:s,s:s,s:s,s:s}", "problem", s->problem, "cause", s->cause,
			      "solution", s->solution, "result", s->result);
	char *text = j ? json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;

	json_decref(j);
	return text;
}

/* The ticket as the model reads it: header, then messages from..to-1. */
static void ticket_text(const struct ticket *t, size_t from, size_t to, struct strbuf *out)
{
	char when[32];

	strbuf_addf(out, "Subject: %s\nStatus: %s\n", t->subject ? t->subject : "",
		    status_or(t));
	if (from == 0 && t->body_text && *t->body_text)
		strbuf_addf(out, "\nDescription:\n%s\n", t->body_text);
	for (size_t i = from; i < to; i++) {
		const struct message *m = &t->msgs[i];
		util_time_format(m->time, when);
		strbuf_addf(out, "\n[%s%s, %s]\n%s\n", role_name(m->role),
			    m->is_public ? "" : ", internal note", when, m->text ? m->text : "");
	}
}

static size_t words(const char *s)
{
	return s ? text_word_count(s, strlen(s)) : 0;
}

/* Roughly 4 tokens for 3 English words. */
static size_t tokens_of(const char *s)
{
	return words(s) * 4 / 3;
}

/* One request and at most one repair request; 0 and *out, or -errno. */
static int ask(const struct provider_conf *p, const char *user, struct summary *out, char *err,
	       size_t errlen)
{
	struct chat_request rq = { system_prompt, user };
	struct chat_reply rep = { 0 };
	struct strbuf repair = STRBUF_INIT;
	char why[200], perr[PROVIDER_ERR_MAX];
	int rc;

	if ((rc = provider_chat(p, &rq, 0, &rep, perr))) {
		snprintf(err, errlen, "%s", perr);
		return rc;
	}
	if (!(rc = summary_parse_reply(rep.text, out, why, sizeof(why))) || rc == -ENOMEM)
		goto out;
	strbuf_addf(&repair, "%s\n\nYour previous reply was not usable (%s). It was:\n%s\n\n"
		    "Reply again with only the JSON object with exactly the fields problem, cause, "
		    "solution and result, each a non-empty string.", user, why, rep.text);
	chat_reply_clear(&rep);
	if (repair.err) {
		rc = -ENOMEM;
		goto out;
	}
	rq.user = repair.buf;
	if ((rc = provider_chat(p, &rq, 0, &rep, perr))) {
		snprintf(err, errlen, "%s (on the repair request)", perr);
		goto out;
	}
	if ((rc = summary_parse_reply(rep.text, out, why, sizeof(why))) == -EINVAL)
		snprintf(err, errlen, "the reply was not a valid summary, twice: %s", why);
out:
	chat_reply_clear(&rep);
	strbuf_release(&repair);
	return rc;
}

/* Summarizes t with provider p, in chunks when it is long. */
static int summarize_with(const struct provider_conf *p, const struct tenant_config *cfg,
			  const struct ticket *t, struct summary *out, char *err, size_t errlen)
{
	struct strbuf text = STRBUF_INIT, merged = STRBUF_INIT;
	size_t budget = (size_t)cfg->summary_chunk_tokens, from = 0, parts = 0;
	int rc = 0;

	ticket_text(t, 0, t->n_msgs, &text);
	if (text.err)
		return -ENOMEM;
	if (tokens_of(text.buf) <= budget) {
		rc = ask(p, text.buf, out, err, errlen);
		goto out;
	}
	/* chunks of whole messages (a single longer message is a chunk of its own) */
	strbuf_addstr(&merged, merge_prompt);
	while (from < t->n_msgs || (from == 0 && !t->n_msgs)) {
		size_t to = from, used = 0;
		while (to < t->n_msgs) {
			size_t n = tokens_of(t->msgs[to].text) + 8;
			if (to > from && used + n > budget)
				break;
			used += n;
			to++;
		}
		struct summary part;
		strbuf_reset(&text);
		strbuf_addf(&text, "Part %zu of a long ticket.\n", ++parts);
		ticket_text(t, from, to, &text);
		if (text.err) {
			rc = -ENOMEM;
			goto out;
		}
		if ((rc = ask(p, text.buf, &part, err, errlen)))
			goto out;
		strbuf_addf(&merged, "\n\nPart %zu:\nproblem: %s\ncause: %s\nsolution: %s\nresult: %s",
			    parts, part.problem, part.cause, part.solution, part.result);
		summary_clear(&part);
		if (to == from)
			break;
		from = to;
	}
	rc = merged.err ? -ENOMEM : ask(p, merged.buf, out, err, errlen);
out:
	strbuf_release(&text);
	strbuf_release(&merged);
	return rc;
}

/* Tickets a model call would be wasted on: a few words, or machine-sent. */
static const char *extractive_reason(const struct tenant_config *cfg, const struct ticket *t)
{
	static const char *const robots[] = { "noreply", "no-reply", "donotreply", "do-not-reply",
		"mailer-daemon", "postmaster@", "notifications@", "alerts@", NULL };
	size_t n = words(t->body_text);
	bool human = false;

	for (size_t i = 0; i < t->n_msgs; i++) {
		n += words(t->msgs[i].text);
		human |= t->msgs[i].role == ROLE_CUSTOMER || t->msgs[i].role == ROLE_AGENT ||
			 t->msgs[i].role == ROLE_UNKNOWN;
	}
	if (t->requester && contains_ci(t->requester, strlen(t->requester), robots))
		return "sent by a machine";
	if (t->n_msgs && !human)
		return "only system messages";
	if (n < (size_t)cfg->summary_min_words)
		return "too short for a model";
	return NULL;
}

/* The i-th provider summaries use. */
static const struct provider_conf *provider_for(const struct tenant_config *cfg, size_t i)
{
	static const struct provider_conf builtin = { .name = "offline", .api = API_OFFLINE };

	if (!cfg->n_summary_providers)
		return &cfg->providers[i];
	for (size_t k = 0; k < cfg->n_providers; k++)
		if (!strcmp(cfg->providers[k].name, cfg->summary_providers[i]))
			return &cfg->providers[k];
	return &builtin; /* "offline", named without being in the chain */
}

int summary_make(const struct tenant_config *cfg, const struct ticket *t, struct summary *out,
		 char method[SUMMARY_METHOD_MAX], char *err, size_t errlen)
{
	struct strbuf fails = STRBUF_INIT;
	const char *why = extractive_reason(cfg, t);
	int rc = -EIO;

	memset(out, 0, sizeof(*out));
	size_t n = cfg->n_summary_providers ? cfg->n_summary_providers : cfg->n_providers;
	for (size_t i = 0; i < n; i++) {
		const struct provider_conf *p = provider_for(cfg, i);
		char perr[PROVIDER_ERR_MAX * 2];
		if (p->api == API_OFFLINE || why) {
			snprintf(method, SUMMARY_METHOD_MAX, "extractive (built-in%s%s)",
				 why && p->api != API_OFFLINE ? "; " : "",
				 why && p->api != API_OFFLINE ? why : "");
			rc = summary_extractive(t, out);
			goto out;
		}
		if (!(rc = summarize_with(p, cfg, t, out, perr, sizeof(perr)))) {
			snprintf(method, SUMMARY_METHOD_MAX, "provider '%s' (%s, model %s)", p->name,
				 provider_api_name(p->api), p->model ? p->model : "");
			goto out;
		}
		if (rc == -ENOMEM)
			goto out;
		strbuf_addf(&fails, "%sprovider '%s' (%s, model %s) failed: %s", fails.len ? "; " : "",
			    p->name, provider_api_name(p->api), p->model ? p->model : "", perr);
	}
	snprintf(err, errlen, "%s", fails.len ? fails.buf : "no provider configured");
	rc = fails.err ? -ENOMEM : -EIO;
out:
	strbuf_release(&fails);
	return rc;
}

void summary_render_md(const char *ticket_name, const char *subject, const struct summary *s,
		       const char *method, const char *state, struct strbuf *out)
{
	strbuf_addf(out, "# Ticket %s%s%s\n\nstate: %s\n", ticket_name, subject && *subject ? ": " : "",
		    subject ? subject : "", state);
	if (!s)
		return;
	strbuf_addf(out, "method: %s\n\nProblem: %s\n\nCause: %s\n\nSolution: %s\n\nResult: %s\n",
		    method, s->problem, s->cause, s->solution, s->result);
}

bool summary_field_stated(const char *v)
{
	return v && *v && strcmp(v, SUMMARY_NOT_STATED) && strcmp(v, SUMMARY_NO_REPLY) &&
	       strcmp(v, SUMMARY_NO_STATUS);
}
