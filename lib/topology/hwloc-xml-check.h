/*
 * hwloc-xml-check.h - an hwloc XML document checked against the shape
 * libhwloc assumes, and rewritten in the plain form libhwloc is then
 * given (hwloc-xml-check.c says why and how).
 */
#ifndef NP_HWLOC_XML_CHECK_H
#define NP_HWLOC_XML_CHECK_H

#include <stddef.h>

#include "topology/topo-int.h"

/*
 * Parse BUF (LEN bytes, NUL-terminated) with libxml2, check it and write
 * the document libhwloc is to import into *OUT (malloc'ed, NUL-terminated,
 * *OUT_LEN bytes).  HWLOC_MAJOR is the major version of the libhwloc that
 * will read it (2 or 3), for the versions it can read.  On failure B holds
 * one line saying what is wrong ("line 12: ..."), nothing is written to
 * *OUT, and the code is returned.  Call xmlInitParser() first.
 */
int np__hwloc_xml_rewrite(np__tb *b, const char *buf, size_t len, unsigned hwloc_major, char **out,
			  size_t *out_len);

#endif
