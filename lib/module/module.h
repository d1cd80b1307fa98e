/*
 * module.h - loadable modules: the parts of libnumaplace that need a heavy
 * library live in numaplace-NAME.so and are loaded by the first call that
 * needs them (as libvirt loads its drivers), so a verb that needs none of
 * them starts as fast as numactl, and a build without them still works.
 *
 *   module    library   brings
 *   hwloc     hwloc     the local, sysfs and hwloc-xml topology sources
 *   libvirt   libvirt   the libvirt source, domains, quiet
 *   xml       libxml2   the libvirt-xml source and libvirt's documents
 *                       (capabilities, node devices, domains read and
 *                       merged): libvirt's formats without libvirt
 *   numa      libnuma   the runtime's live OS boundary (runtime/os.c)
 *   sqlite    libsqlite3  the sqlite: fleet store (fleet/store-sqlite.c)
 *   postgresql  libpq   the postgresql: fleet store (fleet/store-postgresql.c)
 *   curl      libcurl   the host agent's HTTP client (agent/http-curl.c)
 *
 * JSON (jansson) stays in the core: it is every verb's format.
 *
 * A module is one descriptor, struct np__module, exported under the name
 * np__module_NAME: the ABI it was built for, its name, the topology sources
 * it brings (chosen by kind in topology/source.c) and one table of its own
 * (OPS), whose type the module and its one caller share: struct
 * np__mod_libvirt below, a store driver table, an HTTP transport...  The
 * core never includes a module's library headers; only the module's files
 * do.  A module calls back into the core's internals (np__ functions),
 * which libnumaplace.so exports for modules only, under the version
 * NUMAPLACE_PRIVATE_<version> (libnumaplace.map.in): a module from another
 * build then fails to load instead of misbehaving.
 *
 * Where np__module_get() finds NAME:
 *  - libnumaplace.a (the static library, which unit tests and fuzzers link)
 *    has every module of the build linked in: a list, no file.
 *  - libnumaplace.so dlopen()s numaplace-NAME.so from, in order: the folder
 *    $NUMAPLACE_MODULE_DIR (ignored in set-user-id programs); next to the
 *    library itself when the library is the one in its build tree
 *    (build/lib/, so tests and build/cli/numaplace need no set-up); else
 *    the folder numaplace/ beside the library file (libdir/numaplace/),
 *    found with dladdr(), so an installed tree works wherever it was copied
 *    (a DESTDIR, a container image).  np_plugin_path() (version.h) is
 *    that search, for the tool's service plugin, numaplace-serve.so; in
 *    the build tree it looks in service/ too, where that one is built.
 * Failure is NP_EUNSUPPORTED, one line: "this numaplace has no libvirt
 * support (built without it)", "... (module 'libvirt' not installed)", or
 * "cannot load module 'libvirt': <dlerror's reason>".
 *
 * State and threads: none of its own.  dlopen() counts references; a module
 * stays loaded for the life of the process (RTLD_NODELETE: libvirt starts
 * threads and registers handlers that must not be unloaded).  Safe from
 * several threads.
 *
 * Adding a module (say sqlite, whose table is a struct np__store_driver):
 *  1. a file in the module defining its descriptor:
 *       NP__MODULE(sqlite, NULL, &np__store_sqlite);
 *  2. in lib/meson.build, its sources and libraries in np_modules (its
 *     .so and its place in libnumaplace.a follow) and NP_HAVE_SQLITE in
 *     np_conf; in module.c, a line in known[] (the name, the library a
 *     user would install) and its descriptor in builtin[];
 *  3. the caller asks for it where it used the table directly:
 *       const struct np__module *m;
 *       if ((rc = np__module_get("sqlite", &m, err))) return rc;
 *       drv = m->ops;
 *  4. the np__ functions of the core it calls, in libnumaplace.map.in
 *     (the module's link fails, naming them, until they are there).
 */
#ifndef NP_MODULE_H
#define NP_MODULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <numaplace/error.h>
#include <numaplace/request.h>
#include <numaplace/runtime.h>
#include <numaplace/topology.h>

#include "np-config.h"

/* Raised whenever struct np__module or any module's table changes. */
#define NP__MODULE_ABI 3

struct np__source;
struct np__rt_os;
struct np__watch_ops;
struct np__domain;
struct np__tb;
struct np__lv_cells;
struct np__xml_hush;

struct np__module {
	unsigned abi;				 /* NP__MODULE_ABI when built */
	const char *name;			 /* "libvirt": numaplace-libvirt.so */
	const struct np__source *const *sources; /* NULL-terminated, or NULL */
	const void *ops;			 /* the module's own table, or NULL */
};

/* Define module NAME's descriptor, in one file of the module. */
#define NP__MODULE(name_, sources_, ops_)                                                          \
	const struct np__module np__module_##name_ = { NP__MODULE_ABI, #name_, sources_, ops_ }

/*
 * Module NAME into *OUT (loaded if it was not); NP_EUNSUPPORTED with one
 * line saying why not.
 */
int np__module_get(const char *name, const struct np__module **out, struct np_error *err);

/* ---- the tables of this build's modules ------------------------------ */

/* libvirt (util/lv-util.c, runtime/libvirt.c; rt-int.h says what each does). */
struct np__mod_libvirt {
	/* libvirt's process-wide error function made silent (np_set_quiet). */
	void (*set_quiet)(void);
	/* Domains; NULL when built without the runtime. */
	int (*observe_domain)(const struct np__rt_os *os, const np_topo *topo, const char *uri,
			      const char *name, np_obs **out, struct np_error *err);
	int (*domain_apply)(const np_topo *topo, const char *uri, const char *name,
			    const struct np_apply_spec *spec, struct np_apply_result *res,
			    struct np_error *err);
	int (*domain_pin)(const np_topo *topo, const char *uri, const char *name, int vcpu,
			  const int *cpus, int n, struct np_error *err);
	int (*domain_nodeset)(const np_topo *topo, const char *uri, const char *name,
			      const int *nodes, int n, struct np_error *err);
	/* The watcher (runtime/lv-watch.c) and apply on its connection. */
	int (*watch)(const np_topo *topo, const struct np_watch_opts *o,
		     const struct np__watch_ops *ops, struct np_error *err);
	int (*domain_apply_on)(void *conn, const np_topo *topo, const char *name,
			       const struct np_apply_spec *spec, struct np_apply_result *res,
			       struct np_error *err);
};

/*
 * xml: libvirt's documents with libxml2 alone, so that reading a saved
 * document does not load libvirt (topology/src-libvirt.h, util/xml-util.h,
 * request/domain-int.h and emit/plan-emit.h say what each does).  The
 * libvirt module's live source reads the capabilities it is given through
 * the first five; np_request_from_domain_xml() and np_plan_merge_domain_xml()
 * call the last two.
 */
struct np__mod_xml {
	int (*caps_read)(struct np__tb *b, const char *buf, size_t len,
			 struct np__lv_cells *cells);
	void (*pools_feed)(struct np__tb *b, const struct np__lv_cells *cells);
	void (*cells_free)(struct np__lv_cells *cells);
	int (*nodedev_read)(struct np__tb *b, const char *buf, size_t len);
	void (*hush)(struct np__xml_hush *saved);
	void (*unhush)(const struct np__xml_hush *saved);
	int (*domain_read)(const char *buf, size_t len, const char *name, struct np__domain *out,
			   struct np_error *err);
	int (*domain_merge)(const char *buf, size_t len, const char *name, const char *pieces,
			    size_t plen, uint64_t memory_mb, char **out, size_t *outlen,
			    struct np_error *err);
};

/* numa (runtime/os.c). */
struct np__mod_numa {
	const struct np__rt_os *(*os_live)(void);
};

/* curl (agent/http-curl.c): one HTTP request of the host agent. */
struct np__http_req {
	const char *method;    /* "GET", "PUT" */
	const char *url;       /* whole URL: "http://127.0.0.1:8080/v1/hosts/h1" */
	const char *unix_path; /* connect to this unix socket instead; NULL: TCP */
	const char *token;     /* bearer token, or NULL */
	const char *body;      /* JSON, or NULL */
	size_t body_len;
	long timeout_s;
	size_t max_answer;     /* bytes; a longer answer is NP_EINPUT */
};

struct np__http_ans {
	long status;
	char *body; /* malloc'd, NUL-terminated (also when empty) */
	size_t len;
};

struct np__mod_curl {
	/* 0 with *ANS filled (any status), or NP_EIO/NP_EINPUT/NP_ENOMEM. */
	int (*request)(const struct np__http_req *req, struct np__http_ans *ans,
		       struct np_error *err);
};

#endif
