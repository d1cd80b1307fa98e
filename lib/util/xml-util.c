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

xmlDoc *np__xml_parse(const char *buf, size_t len, struct np_error *err)
{
	xmlParserCtxt *ctxt;
	xmlError e = {0};
	xmlDoc *doc;
	char msg[256];

	if (len > INT_MAX) {
		np__err(err, NP_EINPUT, "larger than %d bytes", INT_MAX);
		return NULL;
	}
	if (!(ctxt = xmlNewParserCtxt())) {
		np__err(err, NP_ENOMEM, "out of memory");
		return NULL;
	}
	ctxt->_private = &e;
	ctxt->sax->serror = first_error;
	doc = xmlCtxtReadMemory(ctxt, buf, (int)len, NULL, NULL,
				XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	/*
	 * Out of memory, libxml2 may stop early and still hand back a
	 * document (a part of it), or none with no message (copying its
	 * message failed too): either way, not a fault of the input.
	 */
	if (ctxt->errNo == XML_ERR_NO_MEMORY || e.code == XML_ERR_NO_MEMORY ||
	    (!doc && !e.message)) {
		xmlFreeDoc(doc);
		doc = NULL;
		np__err(err, NP_ENOMEM, "out of memory");
	} else if (!doc) {
		one_line(e.message, msg, sizeof(msg));
		np__err(err, NP_EINPUT, "line %d: %s", e.line, msg);
	}
	xmlResetError(&e);
	xmlFreeParserCtxt(ctxt);
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
