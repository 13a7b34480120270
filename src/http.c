/* http.c - JSON POSTs with libcurl (http.h). */
#include "http.h"

#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "strbuf.h"

#define CONNECT_TIMEOUT_MS 10000L

static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static pthread_key_t handle_key;

static void handle_free(void *h)
{
	curl_easy_cleanup(h);
}

static void global_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	pthread_key_create(&handle_key, handle_free);
}

void http_global_init(void)
{
	pthread_once(&global_once, global_init);
}

/* The calling thread's easy handle: connections stay open between calls. */
static CURL *thread_handle(void)
{
	CURL *h;

	http_global_init();
	h = pthread_getspecific(handle_key);
	if (h) {
		curl_easy_reset(h);
		return h;
	}
	if ((h = curl_easy_init()))
		pthread_setspecific(handle_key, h);
	return h;
}

int http_curl_to_errno(int code)
{
	switch ((CURLcode)code) {
	case CURLE_OK:
		return 0;
	case CURLE_OPERATION_TIMEDOUT:
		return -ETIMEDOUT;
	case CURLE_COULDNT_CONNECT:
		return -ECONNREFUSED;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		return -EHOSTUNREACH;
	case CURLE_GOT_NOTHING:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
		return -ECONNRESET;
	case CURLE_PARTIAL_FILE:
		return -EPIPE;
	case CURLE_OUT_OF_MEMORY:
		return -ENOMEM;
	case CURLE_URL_MALFORMAT:
	case CURLE_UNSUPPORTED_PROTOCOL:
		return -EINVAL;
	default:
		return -EIO;
	}
}

int http_status_to_errno(long status)
{
	if (status >= 200 && status < 300)
		return 0;
	switch (status) {
	case 400: case 413: case 422:
		return -EINVAL;
	case 401: case 403:
		return -EACCES;
	case 404:
		return -ENOENT;
	case 408: case 504:
		return -ETIMEDOUT;
	case 429:
		return -EAGAIN;
	default:
		return -EIO;
	}
}

const char *http_status_text(long status)
{
	switch (status) {
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 408: return "Request Timeout";
	case 413: return "Payload Too Large";
	case 422: return "Unprocessable Entity";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	default: return "";
	}
}

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
	struct strbuf *sb = arg;

	strbuf_add(sb, data, size * n);
	return sb->err ? 0 : size * n;
}

/* Retry-After: delay-seconds or an HTTP date. */
static size_t on_header(char *data, size_t size, size_t n, void *arg)
{
	struct http_response *r = arg;
	size_t len = size * n;
	static const char name[] = "retry-after:";

	if (len > sizeof(name) - 1 && !strncasecmp(data, name, sizeof(name) - 1)) {
		char val[64], *end;
		size_t vl = len - (sizeof(name) - 1);
		snprintf(val, sizeof(val), "%.*s", (int)(vl < 63 ? vl : 63), data + sizeof(name) - 1);
		double secs = strtod(val, &end);
		if (end != val && secs >= 0) {
			r->retry_after = secs;
		} else {
			time_t t = curl_getdate(val, NULL);
			if (t > 0)
				r->retry_after = difftime(t, time(NULL)) > 0 ? difftime(t, time(NULL)) : 0;
		}
	}
	return len;
}

int http_post_json(const char *url, const char *const *headers, const char *body,
		   long timeout_ms, struct http_response *resp, char *err, size_t errlen)
{
	struct strbuf sb = STRBUF_INIT;
	struct curl_slist *hl = NULL, *t;
	CURL *h = thread_handle();
	CURLcode cc;
	int rc = 0;

	memset(resp, 0, sizeof(*resp));
	resp->retry_after = -1;
	if (!h) {
		snprintf(err, errlen, "cannot start an HTTP client");
		return -ENOMEM;
	}
	if (!(hl = curl_slist_append(NULL, "Content-Type: application/json")))
		goto nomem;
	for (size_t i = 0; headers && headers[i]; i++) {
		if (!(t = curl_slist_append(hl, headers[i])))
			goto nomem;
		hl = t;
	}
	if (!(t = curl_slist_append(hl, "Expect:"))) /* no 100-continue round trip */
		goto nomem;
	hl = t;
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &sb);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, resp);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
			 timeout_ms < CONNECT_TIMEOUT_MS ? timeout_ms : CONNECT_TIMEOUT_MS);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "deskfs/" DESKFS_VERSION);
	curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
	cc = curl_easy_perform(h);
	if (cc != CURLE_OK) {
		rc = sb.err ? sb.err : http_curl_to_errno(cc);
		if (cc == CURLE_OPERATION_TIMEDOUT)
			snprintf(err, errlen, "timeout after %.1f s", (double)timeout_ms / 1000);
		else if (cc == CURLE_GOT_NOTHING)
			snprintf(err, errlen, "connection closed with no response");
		else if (cc == CURLE_PARTIAL_FILE)
			snprintf(err, errlen, "response truncated (connection closed mid-body)");
		else
			snprintf(err, errlen, "%s", curl_easy_strerror(cc));
		goto out;
	}
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
	resp->body = strbuf_detach(&sb, &resp->len);
	if (!resp->body)
		goto nomem;
	goto out;
nomem:
	snprintf(err, errlen, "out of memory");
	rc = -ENOMEM;
out:
	/* the handle keeps pointers to the list and the buffer until reset */
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
	curl_slist_free_all(hl);
	strbuf_release(&sb);
	if (rc)
		http_response_clear(resp);
	return rc;
}

void http_response_clear(struct http_response *resp)
{
	free(resp->body);
	resp->body = NULL;
	resp->len = 0;
}
