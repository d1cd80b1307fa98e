/*
 * version.c - np_version(): the version the library was built as, the
 * same string the headers carry (both come from meson.build's project()).
 */
#include <numaplace/version.h>

const char *np_version(void)
{
	return NP_VERSION_STRING;
}
