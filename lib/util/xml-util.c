/*
 * xml-util.c - parsing XML quietly with libxml2, for every libxml2 reader
 * of numaplace (xml-util.h).  libxml2 only: it moves with those readers.
 *
 * libxml2 keeps only its last error, often a consequence of the first
 * ("Premature end of data" after a tag mismatch), so the parser's
 * structured error callback keeps the first one, which is what a person
 * needs to fix the file.
 */
#include "util/xml-util.h"

#include <ctype.h>
#include <stdarg.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <libxml/parser.h>

#include "util/util.h"

static void quiet(void *ctx, const char *msg, ...) {}

void np__xml_hush(struct np__xml_hush *saved)
{
	saved->fn = xmlGenericError;
	saved->ctx = xmlGenericErrorContext;
	xmlSetGenericErrorFunc(NULL, quiet);
}

void np__xml_unhush(const struct np__xml_hush *saved)
{
	xmlSetGenericErrorFunc(saved->ctx, saved->fn);
}

static void first_error(void *data, xmlError *e)
{
	xmlParserCtxt *ctxt = data;
	xmlError *first = ctxt->_private;

	if (first->code == 0)
		xmlCopyError(e, first);
}

/* libxml2's message MSG as one printable line without trailing blanks. */
static void one_line(const char *msg, char *out, size_t size)
{
	snprintf(out, size, "%s", msg);
	for (char *p = out; *p; p++)
		if (!isprint((unsigned char)*p))
			*p = iscntrl((unsigned char)*p) ? ' ' : '?';
	for (size_t n = strlen(out); n > 0 && out[n - 1] == ' '; n--)
		out[n - 1] = '\0';
}

static bool same_str(const xmlChar *a, const xmlChar *b)
{
	return a == b || (a && b && strcmp((const char *)a, (const char *)b) == 0);
}

static bool same_ns(const xmlNs *a, const xmlNs *b)
{
	for (; a && b; a = a->next, b = b->next)
		if (!same_str(a->href, b->href) || !same_str(a->prefix, b->prefix))
			return false;
	return !a && !b;
}

static bool same_attrs(const xmlAttr *x, const xmlAttr *y)
{
	for (; x && y; x = x->next, y = y->next)
		if (!same_str(x->name, y->name) || !x->ns != !y->ns ||
		    (x->ns && !same_str(x->ns->prefix, y->ns->prefix)) ||
		    !x->children != !y->children ||
		    (x->children && !same_str(x->children->content, y->children->content)))
			return false;
	return !x && !y;
}

static bool same_list(const xmlNode *a, const xmlNode *b);

/* Are nodes A and B the same trees?  Allocates nothing (see np__xml_parse). */
static bool same_node(const xmlNode *a, const xmlNode *b)
{
	if (a->type != b->type || !same_str(a->name, b->name))
		return false;
	switch (a->type) {
	case XML_ELEMENT_NODE:
		return !a->ns == !b->ns && (!a->ns || same_str(a->ns->prefix, b->ns->prefix)) &&
		       same_ns(a->nsDef, b->nsDef) && same_attrs(a->properties, b->properties) &&
		       same_list(a->children, b->children);
	case XML_TEXT_NODE:
	case XML_CDATA_SECTION_NODE:
	case XML_COMMENT_NODE:
	case XML_PI_NODE:
		return same_str(a->content, b->content);
	default: /* a DTD, an entity reference: other structures, libxml2's own */
		return true;
	}
}

static bool same_list(const xmlNode *a, const xmlNode *b)
{
	for (; a && b; a = a->next, b = b->next)
		if (!same_node(a, b))
			return false;
	return !a && !b;
}

/* One parse of BUF; NULL with *E (libxml2's first error) or *NOMEM. */
static xmlDoc *parse_once(const char *buf, size_t len, int flags, xmlError *e, bool *nomem)
{
	xmlParserCtxt *ctxt = xmlNewParserCtxt();
	xmlDoc *doc;

	if (!ctxt) {
		*nomem = true;
		return NULL;
	}
	ctxt->_private = e;
	ctxt->sax->serror = first_error;
	doc = xmlCtxtReadMemory(ctxt, buf, (int)len, NULL, NULL,
				XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | flags);
	/*
	 * Out of memory, libxml2 may stop early and still hand back a
	 * document (a part of it), or none with no message (copying its
	 * message failed too): either way, not a fault of the input.
	 */
	*nomem = ctxt->errNo == XML_ERR_NO_MEMORY || e->code == XML_ERR_NO_MEMORY ||
		 (!doc && !e->message);
	xmlFreeParserCtxt(ctxt);
	if (*nomem) {
		xmlFreeDoc(doc);
		doc = NULL;
	}
	return doc;
}

/*
 * libxml2 (2.9) answers some allocation failures with a part missing and
 * no error (a comment, a namespace declaration, ...): a merge would then
 * write the admin's document back without it.  So the document is parsed
 * twice and the two trees compared, which allocates nothing: a part lost
 * in either parse shows as a difference, reported as what it is, out of
 * memory.  Documents here are small; the second parse costs little.
 */
xmlDoc *np__xml_parse(const char *buf, size_t len, struct np_error *err)
{
	return np__xml_parse_flags(buf, len, 0, err);
}

xmlDoc *np__xml_parse_flags(const char *buf, size_t len, int flags, struct np_error *err)
{
	xmlError e = {0}, e2 = {0};
	xmlDoc *doc = NULL, *twin = NULL;
	bool nomem = false;
	char msg[256];
	int nul = np__nul_line(buf, len, NULL);

	if (len > INT_MAX) {
		np__err(err, NP_EINPUT, "larger than %d bytes", INT_MAX);
		return NULL;
	}
	/* libxml2 stops at a NUL: the rest would be lost, or "premature end". */
	if (nul) {
		np__err(err, NP_EINPUT, "line %d: a NUL byte (not a text document)", nul);
		return NULL;
	}
	doc = parse_once(buf, len, flags, &e, &nomem);
	if (doc && !nomem)
		twin = parse_once(buf, len, flags, &e2, &nomem);
	if (doc && (!twin || !same_list(doc->children, twin->children) ||
		    !same_str(doc->version, twin->version) ||
		    !same_str(doc->encoding, twin->encoding))) {
		xmlFreeDoc(doc);
		doc = NULL;
		nomem = true;
	}
	if (nomem) {
		np__err(err, NP_ENOMEM, "out of memory");
	} else if (!doc) {
		one_line(e.message, msg, sizeof(msg));
		np__err(err, NP_EINPUT, "line %d: %s", e.line, msg);
	}
	xmlFreeDoc(twin);
	xmlResetError(&e);
	xmlResetError(&e2);
	return doc;
}

bool np__xml_named(const xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0;
}

int np__xml_line(const xmlNode *n)
{
	long l = xmlGetLineNo(n);

	return l > 0 && l < 1000000000 ? (int)l : 0;
}

xmlNode *np__xml_child(const xmlNode *parent, const char *name, xmlNode **second)
{
	xmlNode *first = NULL;

	if (second)
		*second = NULL;
	for (xmlNode *c = parent->children; c; c = c->next) {
		if (!np__xml_named(c, name))
			continue;
		if (first) {
			if (second)
				*second = c;
			break;
		}
		first = c;
	}
	return first;
}

int np__xml_failf(struct np__xml_fail *f, int code, int line, const char *fmt, ...)
{
	char msg[320];
	va_list ap;

	if (f->rc)
		return f->rc;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (code == NP_ENOMEM)
		return f->rc = np__err(f->err, code, "out of memory");
	if (line > 0)
		return f->rc = np__err(f->err, code, "%s: line %d: %s", f->name, line, msg);
	return f->rc = np__err(f->err, code, "%s: %s", f->name, msg);
}

xmlNode *np__xml_once(struct np__xml_fail *f, const xmlNode *parent, const char *name)
{
	xmlNode *second, *n = np__xml_child(parent, name, &second);

	if (!second)
		return n;
	np__xml_failf(f, NP_EINPUT, np__xml_line(second),
		      "a second <%s> in <%s> (libvirt allows one)", name,
		      (const char *)parent->name);
	return NULL;
}
