/* test_summary.c - model replies validated (summary_parse_reply) and the
 * extractive summarizer's choices (summary_extractive). */
#include <errno.h>

#include "check.h"
#include "strbuf.h"
#include "summary.h"
#include "util.h"

static void test_parse(void)
{
	struct summary s;
	char why[200];

	CHECK_INT(summary_parse_reply("{\"problem\":\"P\",\"cause\":\"C\",\"solution\":\"S\","
				      "\"result\":\"R\"}", &s, why, sizeof(why)), 0);
	CHECK_STR(s.problem, "P");
	CHECK_STR(s.result, "R");
	summary_clear(&s);
	/* a Markdown fence and white space around the values are accepted */
	CHECK_INT(summary_parse_reply("```json\n{\"problem\":\" P \",\"cause\":\"C\",\"solution\":"
				      "\"S\",\"result\":\"R\"}\n```\n", &s, why, sizeof(why)), 0);
	CHECK_STR(s.problem, "P");
	summary_clear(&s);
	CHECK_INT(summary_parse_reply("Sure! Here it is.", &s, why, sizeof(why)), -EINVAL);
	CHECK(!strncmp(why, "not a JSON object", 17));
	CHECK(!s.problem);
	CHECK_INT(summary_parse_reply("[1]", &s, why, sizeof(why)), -EINVAL);
	CHECK_STR(why, "not a JSON object");
	CHECK_INT(summary_parse_reply("{\"problem\":\"P\",\"cause\":\"C\",\"solution\":\"S\"}", &s,
				      why, sizeof(why)), -EINVAL);
	CHECK_STR(why, "missing field \"result\"");
	CHECK_INT(summary_parse_reply("{\"problem\":\"P\",\"cause\":\"C\",\"solution\":\"S\","
				      "\"result\":\"R\",\"mood\":\"x\"}", &s, why, sizeof(why)),
		  -EINVAL);
	CHECK_STR(why, "unexpected field \"mood\"");
	CHECK_INT(summary_parse_reply("{\"problem\":1,\"cause\":\"C\",\"solution\":\"S\","
				      "\"result\":\"R\"}", &s, why, sizeof(why)), -EINVAL);
	CHECK_STR(why, "field \"problem\" is not a string");
	CHECK_INT(summary_parse_reply("{\"problem\":\"P\",\"cause\":\" \",\"solution\":\"S\","
				      "\"result\":\"R\"}", &s, why, sizeof(why)), -EINVAL);
	CHECK_STR(why, "field \"cause\" is empty");
	CHECK_INT(summary_parse_reply("{\"problem\":\"P\",\"problem\":\"Q\",\"cause\":\"C\","
				      "\"solution\":\"S\",\"result\":\"R\"}", &s, why, sizeof(why)),
		  -EINVAL);
}

static struct message *msg(struct ticket *t, enum author_role role, bool pub, const char *text)
{
	struct message *m = ticket_add_message(t);
	m->role = role;
	m->is_public = pub;
	m->text = util_strdup(text);
	m->time = (int64_t)t->n_msgs * 60;
	return m;
}

static void test_extractive(void)
{
	struct ticket t;
	struct summary s;

	ticket_init(&t);
	t.subject = util_strdup("VPN drops");
	t.status = util_strdup("solved");
	msg(&t, ROLE_CUSTOMER, true, "Hi team,\nOur VPN drops every hour. It started on Monday. "
	    "Please help.");
	msg(&t, ROLE_AGENT, false, "Checked the logs. It drops because the certificate expired.");
	msg(&t, ROLE_AGENT, true, "Hello Ann,\nWe renewed the certificate. Reconnect once. "
	    "Let me know if it happens again.");
	msg(&t, ROLE_CUSTOMER, true, "Thanks, it works now!");
	CHECK_INT(summary_extractive(&t, &s), 0);
	CHECK_STR(s.problem, "VPN drops: Our VPN drops every hour. It started on Monday.");
	CHECK_STR(s.cause, "It drops because the certificate expired.");
	CHECK_STR(s.solution, "We renewed the certificate. Reconnect once.");
	CHECK_STR(s.result, "Resolved (status: solved). The customer's last message: "
		  "\"Thanks, it works now!\"");
	summary_clear(&s);
	ticket_clear(&t);

	/* no agent reply, no status, the subject repeated as the first line */
	ticket_init(&t);
	t.subject = util_strdup("Mail bounces");
	t.body_text = util_strdup("Mail bounces\n\nMail to partners bounces with 550.");
	CHECK_INT(summary_extractive(&t, &s), 0);
	CHECK_STR(s.problem, "Mail bounces: Mail to partners bounces with 550.");
	CHECK_STR(s.cause, SUMMARY_NOT_STATED);
	CHECK_STR(s.solution, "No agent reply in the ticket.");
	CHECK_STR(s.result, "The source gives no status.");
	summary_clear(&s);
	ticket_clear(&t);

	/* a first sentence longer than a field (an export without
	 * punctuation) is cut, not dropped */
	ticket_init(&t);
	t.subject = util_strdup("reset passwords");
	struct strbuf body = STRBUF_INIT;
	for (int i = 0; i < 60; i++)
		strbuf_addstr(&body, "expire days ");
	t.body_text = strbuf_detach(&body, NULL);
	CHECK_INT(summary_extractive(&t, &s), 0);
	CHECK(!strncmp(s.problem, "reset passwords: expire days expire days ", 41));
	CHECK_INT((int)strlen(s.problem), (int)strlen("reset passwords: ") + 480);
	CHECK_STR(s.problem + strlen(s.problem) - 3, "...");
	summary_clear(&s);
	ticket_clear(&t);
}

static void test_render(void)
{
	char p[] = "P", c[] = "C", so[] = "S", r[] = "R";
	struct summary s = { p, c, so, r };
	struct strbuf sb = STRBUF_INIT;

	summary_render_md("4821", "VPN", &s, "extractive (built-in)", "done", &sb);
	CHECK_STR(sb.buf, "# Ticket 4821: VPN\n\nstate: done\nmethod: extractive (built-in)\n\n"
		  "Problem: P\n\nCause: C\n\nSolution: S\n\nResult: R\n");
	strbuf_reset(&sb);
	summary_render_md("4821", NULL, NULL, NULL, "pending", &sb);
	CHECK_STR(sb.buf, "# Ticket 4821\n\nstate: pending\n");
	strbuf_release(&sb);
}

int main(void)
{
	test_parse();
	test_extractive();
	test_render();
	return check_done();
}
