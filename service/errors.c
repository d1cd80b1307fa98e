/*
 * errors.c - the one error table of the service: every error code the API
 * answers with and its HTTP status, and the helpers that write answers
 * (`{"error": {"code", "message"}}`, docs/api/openapi.yaml).  A library
 * error is mapped here too, by its reason first ("no_host" is a 404
 * whatever the call), then by its code.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <numaplace/util.h>

#include "svc.h"

static const struct {
	const char *code;
	int status;
} table[] = {
	{ "bad_request", 400 },
	{ "bad_json", 400 },
	{ "unauthorized", 401 },
	{ "not_found", 404 },
	{ "method_not_allowed", 405 },
	{ "conflict", 409 },
	{ "no_valid_host", 409 },
	{ "length_required", 411 },
	{ "body_too_large", 413 },
	{ "uri_too_long", 414 },
	{ "unsupported_media_type", 415 },
	{ "headers_too_large", 431 },
	{ "internal", 500 },
	{ "unavailable", 503 },
	{ "deadline_exceeded", 503 },
	/*
	 * The store is of a newer numaplace: this server cannot serve it
	 * (the client did nothing wrong, so no 4xx), and it is no bug here
	 * (no 500); a replica of the newer release can, so 503 with
	 * Retry-After sends the client there, as an upgrade wants.
	 */
	{ "schema_too_new", 503 },
};

/* Library reasons (err->reason) that are not plain bad input. */
static const struct {
	const char *reason, *code;
} reasons[] = {
	{ "no_host", "not_found" },
	{ "host_in_use", "conflict" },
	{ "host_exists", "conflict" },
	{ "claim_conflict", "conflict" },
	{ "no_placement", "not_found" },
	{ "wrong_host", "conflict" },
	{ "deadline_exceeded", "deadline_exceeded" }, /* any code: nothing was made */
	{ "schema_too_new", "schema_too_new" },
};

int svc_error_status(const char *code)
{
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (strcmp(table[i].code, code) == 0)
			return table[i].status;
	return 500;
}

void svc_json(struct svc_resp *rs, int status, json_t *j)
{
	free(rs->body);
	rs->body = NULL;
	rs->len = 0;
	rs->status = status;
	rs->type = "application/json";
	if (!j)
		return;
	rs->body = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	if (!rs->body) {
		rs->status = 500;
		rs->body = strdup("{\"error\":{\"code\":\"internal\",\"message\":\"out of memory\"}}");
	}
	rs->len = rs->body ? strlen(rs->body) : 0;
}

/*
 * The message is shown (np_text_shown): it often quotes what a client sent
 * (a key, a name), which may hold a newline or bytes that are not UTF-8,
 * or be cut inside a character by a %.64s; the answer stays JSON and its
 * message one line whatever was sent.
 */
static void verror(struct svc_resp *rs, const char *code, const char *key, json_t *value,
		   const char *fmt, va_list ap)
{
	char raw[640], msg[640];
	json_t *e;

	vsnprintf(raw, sizeof(raw), fmt, ap);
	np_text_shown(raw, msg, sizeof(msg));
	e = json_pack("{s:s,s:s}", "code", code, "message", msg);
	if (e && key)
		json_object_set_new(e, key, value);
	else
		json_decref(value);
	svc_json(rs, svc_error_status(code), e ? json_pack("{s:o}", "error", e) : NULL);
	rs->status = svc_error_status(code);
}

void svc_error(struct svc_resp *rs, const char *code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verror(rs, code, NULL, NULL, fmt, ap);
	va_end(ap);
}

void svc_error_with(struct svc_resp *rs, const char *code, const char *key, json_t *value,
		    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verror(rs, code, key, value, fmt, ap);
	va_end(ap);
}

void svc_error_np(struct svc_resp *rs, const struct np_error *err)
{
	const char *code = "internal";

	switch (err->code) {
	case NP_EINPUT:
		code = "bad_request";
		for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
			if (strcmp(err->reason, reasons[i].reason) == 0)
				code = reasons[i].code;
		break;
	case NP_EIO:
	case NP_EOS:
		code = strcmp(err->reason, "deadline_exceeded") ? "unavailable" : "deadline_exceeded";
		break;
	case NP_EUNSUPPORTED:
		code = "bad_request";
		break;
	default:
		break;
	}
	svc_error(rs, code, "%s", err->message[0] ? err->message : np_strerror(err->code));
}

json_t *svc_body_object(const struct svc_req *rq, struct svc_resp *rs)
{
	json_error_t je;
	json_t *j;

	if (!rq->body || rq->body_len == 0) {
		svc_error(rs, "bad_request", "the request needs a JSON body");
		return NULL;
	}
	/* jansson would end the text at a NUL and say "'}' expected". */
	if (memchr(rq->body, '\0', rq->body_len)) {
		svc_error(rs, "bad_json", "body: a NUL byte (not a JSON text)");
		return NULL;
	}
	j = json_loadb(rq->body, rq->body_len, JSON_REJECT_DUPLICATES, &je);
	if (!j) {
		svc_error(rs, "bad_json", "body: line %d column %d: %s", je.line, je.column,
			  je.text);
		return NULL;
	}
	if (!json_is_object(j)) {
		json_decref(j);
		svc_error(rs, "bad_request", "body: expected a JSON object");
		return NULL;
	}
	return j;
}

json_t *svc_json_from_writer(int (*write)(const void *obj, const void *aux, FILE *out,
					  struct np_error *err),
			     const void *obj, const void *aux, struct np_error *err)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&buf, &len);
	json_t *j = NULL;
	json_error_t je;
	int rc;

	if (!out) {
		err->code = NP_ENOMEM;
		snprintf(err->message, sizeof(err->message), "out of memory");
		return NULL;
	}
	rc = write(obj, aux, out, err);
	if (fclose(out) == 0 && rc == 0) {
		j = json_loadb(buf, len, 0, &je);
		if (!j) {
			err->code = NP_EINPUT;
			snprintf(err->message, sizeof(err->message), "writer output: %s", je.text);
		}
	}
	free(buf);
	return j;
}
