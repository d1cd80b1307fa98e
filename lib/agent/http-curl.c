/*
 * http-curl.c - module curl (numaplace-curl.so): the host agent's one
 * HTTP request, through libcurl.  The only file that includes curl.h, so
 * only `numaplace agent` ever loads libcurl.
 *
 * What the agent talks to is its own service, but the answer is read as
 * untrusted: at most MAX_ANSWER bytes are kept (a longer answer stops the
 * transfer and is NP_EINPUT), redirects are not followed, only http and
 * https are spoken, and the whole request is bounded in time.  A unix
 * socket is libcurl's CURLOPT_UNIX_SOCKET_PATH: the URL's host is then
 * only what the Host header says.
 */
#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#include "module/module.h"
#include "util/util.h"

struct sink {
	char *buf;
	size_t len, cap, max;
	bool over;
};

static size_t on_data(char *data, size_t size, size_t n, void *p)
{
	struct sink *s = p;
	size_t k = size * n;

	if (s->len + k > s->max) {
		s->over = true;
		return 0; /* stops the transfer */
	}
	if (np__grow((void **)&s->buf, &s->cap, s->len + k + 1, 1))
		return 0;
	memcpy(s->buf + s->len, data, k);
	s->len += k;
	s->buf[s->len] = '\0';
	return k;
}

static int setup(CURL *c, const struct np__http_req *rq, struct curl_slist **hdrs, char *auth,
		 size_t asize, struct sink *sink)
{
	int bad = 0;

	bad |= (int)curl_easy_setopt(c, CURLOPT_URL, rq->url);
	bad |= (int)curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
	bad |= (int)curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	bad |= (int)curl_easy_setopt(c, CURLOPT_TIMEOUT, rq->timeout_s > 0 ? rq->timeout_s : 10L);
	bad |= (int)curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, rq->method);
	bad |= (int)curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	bad |= (int)curl_easy_setopt(c, CURLOPT_WRITEDATA, sink);
	bad |= (int)curl_easy_setopt(c, CURLOPT_USERAGENT, "numaplace-agent");
	if (rq->unix_path)
		bad |= (int)curl_easy_setopt(c, CURLOPT_UNIX_SOCKET_PATH, rq->unix_path);
	if (rq->body) {
		bad |= (int)curl_easy_setopt(c, CURLOPT_POSTFIELDS, rq->body);
		bad |= (int)curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
					     (curl_off_t)rq->body_len);
		*hdrs = curl_slist_append(*hdrs, "Content-Type: application/json");
	}
	*hdrs = curl_slist_append(*hdrs, "Accept: application/json");
	*hdrs = curl_slist_append(*hdrs, "Expect:");
	if (rq->token) {
		snprintf(auth, asize, "Authorization: Bearer %s", rq->token);
		*hdrs = curl_slist_append(*hdrs, auth);
	}
	bad |= (int)curl_easy_setopt(c, CURLOPT_HTTPHEADER, *hdrs);
	return bad || !*hdrs ? -1 : 0;
}

static int request(const struct np__http_req *rq, struct np__http_ans *ans,
		   struct np_error *err)
{
	struct sink sink = { .max = rq->max_answer };
	struct curl_slist *hdrs = NULL;
	char auth[4200], why[CURL_ERROR_SIZE] = "";
	CURL *c = curl_easy_init();
	CURLcode res;
	long status = 0;
	int rc = 0;

	if (!c)
		return np__err(err, NP_ENOMEM, "cannot start an HTTP request (libcurl)");
	if (setup(c, rq, &hdrs, auth, sizeof(auth), &sink) ||
	    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, why)) {
		rc = np__err(err, NP_ENOMEM, "cannot set up an HTTP request (libcurl)");
		goto out;
	}
	res = curl_easy_perform(c);
	if (sink.over)
		rc = np__err(err, NP_EINPUT, "the server's answer to %s %s is longer than %zu bytes",
			     rq->method, rq->url, rq->max_answer);
	else if (res != CURLE_OK && rq->unix_path)
		rc = np__err(err, NP_EIO, "cannot reach the server at unix:%s (%s %s): %s",
			     rq->unix_path, rq->method, rq->url + strlen("http://localhost"),
			     curl_easy_strerror(res));
	else if (res != CURLE_OK)
		rc = np__err(err, NP_EIO, "cannot reach the server (%s %s): %s", rq->method,
			     rq->url, *why ? why : curl_easy_strerror(res));
	else if (curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status) != CURLE_OK)
		rc = np__err(err, NP_EIO, "no HTTP status from the server");
	if (!rc && !sink.buf && !(sink.buf = calloc(1, 1)))
		rc = np__err(err, NP_ENOMEM, "out of memory");
	if (!rc) {
		*ans = (struct np__http_ans){ status, sink.buf, sink.len };
		sink.buf = NULL;
	}
out:
	explicit_bzero(auth, sizeof(auth));
	free(sink.buf);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
	return rc;
}

static const struct np__mod_curl np__curl_ops = { request };

/* The module (lib/module/module.h): its one export. */
NP__MODULE(curl, NULL, &np__curl_ops);
