/*
 * lv-util.c - opening libvirt connections quietly and reading libvirt's
 * errors as one line (lv-util.h says why per connection).
 */
#include "util/lv-util.h"

#include <stdio.h>

#include <libvirt/virterror.h>

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
