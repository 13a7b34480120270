/* http.h - JSON over HTTP for providers (libcurl), FUSE-free.
 *
 * One POST per call on a connection cached per thread (keep-alive), with
 * a total timeout. Transport failures are negative errno through
 * http_curl_to_errno(); an HTTP status is returned as is and mapped by
 * http_status_to_errno() when the caller treats it as a failure.
 *
 * Ownership: resp->body is malloc'd (NUL-terminated); http_response_clear
 * frees it. Headers passed in are never logged or copied into errors, so
 * they may carry API keys.
 */
#ifndef DESKFS_HTTP_H
#define DESKFS_HTTP_H

#include <stddef.h>

struct http_response {
	long status;        /* HTTP status */
	char *body;
	size_t len;
	double retry_after; /* seconds from a Retry-After header; < 0: none */
};

/* Calls curl_global_init once; safe from any thread. */
void http_global_init(void);
/* POSTs body (JSON) to url with the extra headers (NULL-terminated list,
 * may be NULL). Returns 0 once any HTTP response arrived, or -errno with
 * a one-line reason in err ("timeout after 30 s", "connection refused"). */
int http_post_json(const char *url, const char *const *headers, const char *body,
		   long timeout_ms, struct http_response *resp, char *err, size_t errlen);
void http_response_clear(struct http_response *resp);

/* The errno for a libcurl result (CURLcode) and for an HTTP status. */
int http_curl_to_errno(int curl_code);
int http_status_to_errno(long status);
/* "Too Many Requests", "Internal Server Error", ... ("" if unknown). */
const char *http_status_text(long status);

#endif
