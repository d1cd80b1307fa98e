/*
 * lv-util.c - opening libvirt connections quietly and reading libvirt's
 * errors as one line (lv-util.h says why per connection), and telling a
 * host without libvirt from a bad URI.
 */
#include "util/lv-util.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <libvirt/virterror.h>

#include <numaplace/error.h>

static void quiet(void *opaque, virErrorPtr error)
{
	(void)opaque;
	(void)error;
}

virConnectPtr np__lv_open(const char *uri, bool readonly)
{
	virConnectPtr conn = readonly ? virConnectOpenReadOnly(uri) : virConnectOpen(uri);

	if (conn)
		virConnSetErrorFunc(conn, NULL, quiet);
	return conn;
}

void np__lv_set_quiet(void)
{
	virSetErrorFunc(NULL, quiet);
}

const char *np__lv_message(char *buf, size_t size)
{
	virErrorPtr e = virGetLastError();

	snprintf(buf, size, "%s", e && e->message ? e->message : "unknown libvirt error");
	for (char *p = buf; *p; p++)
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
	return buf;
}

/*
 * No libvirt answers here: no daemon behind the socket (missing, refused),
 * or no driver for the URI's scheme in this libvirt.  That is the host,
 * not the input: "unsupported here" (exit 3), as a module not installed.
 */
static bool nobody_here(const virError *e)
{
	if (!e)
		return false;
	if (e->code == VIR_ERR_NO_CONNECT)
		return true;
	return e->code == VIR_ERR_SYSTEM_ERROR && e->domain == VIR_FROM_RPC &&
	       (e->int1 == ENOENT || e->int1 == ECONNREFUSED);
}

int np__lv_open_failure(char *buf, size_t size)
{
	bool nobody = nobody_here(virGetLastError());

	size_t len = strlen(np__lv_message(buf, size));

	if (!nobody)
		return NP_EIO;
	/* A local daemon's socket: the one hint that helps (a TLS file missing says itself). */
	if (strstr(buf, "socket"))
		snprintf(buf + len, size - len, " (is libvirtd running?)");
	return NP_EUNSUPPORTED;
}
