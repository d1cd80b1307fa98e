/*
 * keys.c - "only these keys": the one check of a JSON object's keys or a
 * route's query parameters against the words a route takes, so that a
 * typo (?cpu_raito=4, "hots") is refused, not silently ignored.
 *
 * A list is one string of words separated by single spaces ("flavor image
 * hosts"), as routes.c lists query parameters; NULL or "" takes none.
 * Messages quote at most 64 bytes of a key (svc_error's JSON keeps a key
 * cut inside a UTF-8 character valid).
 */
#include <string.h>

#include "svc.h"

bool svc_listed(const char *list, const char *key)
{
	size_t n = strlen(key);

	for (const char *w = list; w && *w; w += strcspn(w, " "), w += *w == ' ')
		if (n && strncmp(w, key, n) == 0 && (w[n] == ' ' || w[n] == '\0'))
			return true;
	return false;
}

int svc_only_keys(json_t *obj, const char *list, const char *what, struct svc_resp *rs)
{
	char shown[256];
	const char *key;
	size_t o = 0;
	json_t *v;

	json_object_foreach(obj, key, v) {
		if (svc_listed(list, key))
			continue;
		/* "a b c" as "a, b, c" */
		for (const char *w = list; w && *w && o + 3 < sizeof(shown); w++) {
			if (*w == ' ')
				shown[o++] = ',';
			shown[o++] = *w;
		}
		shown[o] = '\0';
		svc_error(rs, "bad_request", "unknown %s '%.64s' (%s)", what, key,
			  o ? shown : "none");
		return -1;
	}
	return 0;
}
