/*
 * xml-util.h - what every libxml2 reader of numaplace shares (libvirt's
 * capabilities and node devices, domain XML read and merged): parsing a
 * document quietly with libxml2's first complaint as one line, and keeping
 * libxml2's generic error printer quiet meanwhile.
 *
 * Only files that use libxml2 include this, so they can live in a module
 * of their own.  Nothing here keeps state between calls.
 */
#ifndef NP_XML_UTIL_H
#define NP_XML_UTIL_H

#include <stdbool.h>
#include <stddef.h>

#include <libxml/tree.h>
#include <libxml/xmlerror.h>

#include <numaplace/error.h>

#include "util/util.h"

/*
 * libxml2's generic error handler of this thread, replaced by a silent one
 * while numaplace reads XML: libxml2 prints some errors (running out of
 * memory, errors raised with no parser at hand) through it, to stderr by
 * default, and the library prints nothing.
 */
struct np__xml_hush {
	xmlGenericErrorFunc fn;
	void *ctx;
};
void np__xml_hush(struct np__xml_hush *saved);
void np__xml_unhush(const struct np__xml_hush *saved);

/*
 * Parse BUF (LEN bytes) quietly, without the network and without
 * expanding entities, and whole: a part libxml2 lost for lack of memory
 * is NP_ENOMEM, not a smaller document.  The document (xmlFreeDoc it), or
 * NULL with ERR filled: NP_EINPUT "line N: <libxml2's first complaint>"
 * (its text made one printable line) or "line N: a NUL byte", NP_ENOMEM.
 */
xmlDoc *np__xml_parse(const char *buf, size_t len, struct np_error *err);
/* The same with more of libxml2's XML_PARSE_* FLAGS (XML_PARSE_NODICT, ...). */
xmlDoc *np__xml_parse_flags(const char *buf, size_t len, int flags, struct np_error *err);

/* Is N an element called NAME? */
bool np__xml_named(const xmlNode *n, const char *name);
/* The line N was on, or 0 when libxml2 does not know. */
int np__xml_line(const xmlNode *n);
/*
 * The first element child of PARENT called NAME, or NULL; *SECOND (when
 * not NULL) the second one, or NULL: for the elements libvirt allows once.
 */
xmlNode *np__xml_child(const xmlNode *parent, const char *name, xmlNode **second);

/*
 * A reader's or writer's first failure, kept: later ones are not reported
 * (a consequence of the first, as a rule).  Messages start with the
 * document's NAME and, when known, its line: "vm.xml: line 4: ...".
 */
struct np__xml_fail {
	const char *name;
	struct np_error *err;
	int rc; /* 0, or the first failure's code */
};

/* Fail F with CODE and a message (NP_ENOMEM: "out of memory"); returns F's code. */
int np__xml_failf(struct np__xml_fail *f, int code, int line, const char *fmt, ...)
	NP__PRINTF(4, 5);
/*
 * The element child NAME of PARENT that libvirt allows once, or NULL; a
 * second one fails F: "line 9: a second <numatune> in <domain> (libvirt
 * allows one)".
 */
xmlNode *np__xml_once(struct np__xml_fail *f, const xmlNode *parent, const char *name);

#endif
