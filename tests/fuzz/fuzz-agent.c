/*
 * fuzz-agent.c - libFuzzer target for what the host agent reads from the
 * service (lib/agent/agent.c), which it takes as untrusted because it
 * runs as root: the placement list of GET /v1/hosts/NAME
 * (np__agent_parse_placements) and an error answer's message
 * (np__agent_said, which goes into a log line).  Every input is fed to
 * both, and to QEMU's -name parser (np__qemu_guest_name: a command line
 * another user chose).
 *
 * Beyond the sanitizers it checks what the agent relies on: a refusal is
 * NP_EINPUT or NP_ENOMEM with one non-empty line; a success gives at
 * most NP_AGENT_PLACEMENTS_MAX ids, each passing the fleet's id rule; the
 * message has no control byte and at most 200 bytes; a guest name is
 * non-empty, NUL-terminated within its buffer.
 */
#include "fuzz-common.h"

#include "agent/agent-int.h"
#include "fleet/store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_placements(const char *body, size_t size)
{
	struct np_error err = { 0 };
	char **ids = NULL;
	int n = -1, rc = np__agent_parse_placements(body, size, &ids, &n, &err);

	if (rc && rc != NP_EINPUT && rc != NP_ENOMEM)
		fuzz_fail("placements: unexpected code %d", rc);
	if (rc && (!err.message[0] || strchr(err.message, '\n')))
		fuzz_fail("placements: not one line: '%s'", err.message);
	if (!rc && (n < 0 || n > NP_AGENT_PLACEMENTS_MAX || (n && !ids)))
		fuzz_fail("placements: %d ids", n);
	for (int i = 0; i < n && ids; i++) {
		if (!rc && np__fleet_check_id("placement id", ids[i], NULL))
			fuzz_fail("placements: id %d breaks the id rule", i);
		free(ids[i]);
	}
	free(ids);
}

static void fuzz_said(const char *body, size_t size)
{
	char out[256];

	memset(out, 'x', sizeof(out));
	np__agent_said(body, size, out, sizeof(out));
	if (!memchr(out, '\0', sizeof(out)) || strlen(out) > 200 || !out[0])
		fuzz_fail("said: %zu bytes", strnlen(out, sizeof(out)));
	for (const char *c = out; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			fuzz_fail("said: control byte 0x%02x", (unsigned char)*c);
}

static void fuzz_guest_name(const char *arg)
{
	char name[64];

	memset(name, 'x', sizeof(name));
	if (np__qemu_guest_name(arg, name, sizeof(name)) &&
	    (!memchr(name, '\0', sizeof(name)) || !name[0]))
		fuzz_fail("guest name: not a string");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = fuzz_strdup(data, size);

	fuzz_placements(text, size);
	fuzz_said(text, size);
	fuzz_guest_name(text);
	free(text);
	return 0;
}
