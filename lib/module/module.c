/*
 * module.c - np__module_get(): module.h says what a module is and where
 * one is looked for; np_plugin_path() (version.h), the same search for the
 * tool's service plugin.  This file is compiled twice: into libnumaplace.so,
 * where it dlopen()s numaplace-NAME.so, and with NP__MODULES_BUILTIN into
 * libnumaplace.a, where every module of the build is linked in and found
 * in a list.
 *
 * The messages tell a user what to install: a module this build was made
 * without, one that is not installed, and one whose file or library will
 * not load (dlerror's reason) are three different fixes.
 */
#include "module/module.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <numaplace/version.h>

#include "util/util.h"

/* Every module numaplace has, whether this build made it, and the library it stands for. */
static const struct {
	const char *name, *library;
	bool built;
} known[] = {
	{ "hwloc", "hwloc", NP_HAVE_HWLOC },
	{ "libvirt", "libvirt", NP_HAVE_LIBVIRT },
	{ "xml", "libxml2", NP_HAVE_XML },
	{ "numa", "libnuma", NP_HAVE_RUNTIME },
	{ "sqlite", "libsqlite3", NP_HAVE_SQLITE },
	{ "postgresql", "libpq", NP_HAVE_POSTGRESQL },
	{ "curl", "libcurl", NP_HAVE_CURL },
};

/* Any object of this file: dladdr() tells which file it was loaded from. */
static const char anchor;

/* The folder of the file holding this code (libnumaplace.so.N) into DIR. */
static bool lib_dir(char *dir, size_t size)
{
	Dl_info info;
	char *slash;

	if (!dladdr(&anchor, &info) || !info.dli_fname ||
	    (size_t)snprintf(dir, size, "%s", info.dli_fname) >= size)
		return false;
	slash = strrchr(dir, '/');
	if (!slash)
		return false;
	*slash = '\0';
	return true;
}

static bool same_dir(const char *a, const char *b)
{
	struct stat sa, sb;

	return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

/* Where module file FILE is (module.h): into PATH; false when that cannot be told. */
static bool module_path(const char *file, char *path, size_t size)
{
	/* The build tree's folders of plugins: the library's modules (the one a
	 * missing file is looked for in), the service's. */
	static const char *const build_dirs[] = { NP_BUILD_LIBDIR, NP_BUILD_SERVICEDIR };
	const char *env = secure_getenv("NUMAPLACE_MODULE_DIR");
	char lib[PATH_MAX];
	struct stat st;

	if (env && *env)
		return (size_t)snprintf(path, size, "%s/%s", env, file) < size;
	if (!lib_dir(lib, sizeof(lib)))
		return false;
	if (!same_dir(lib, NP_BUILD_LIBDIR))
		return (size_t)snprintf(path, size, "%s/numaplace/%s", lib, file) < size;
	for (size_t i = 1; i < NP__ARRAY_SIZE(build_dirs); i++)
		if ((size_t)snprintf(path, size, "%s/%s", build_dirs[i], file) < size &&
		    stat(path, &st) == 0)
			return true;
	return (size_t)snprintf(path, size, "%s/%s", build_dirs[0], file) < size;
}

/* version.h */
int np_plugin_path(const char *file, char *path, size_t size, struct np_error *err)
{
	char buf[PATH_MAX + 64];

	if (!file || !*file || strchr(file, '/'))
		return np__err(err, NP_EINPUT, "a plugin is a file name, not '%s'", file ? file : "");
	if (!module_path(file, buf, sizeof(buf)))
		return np__err(err, NP_EUNSUPPORTED, "cannot tell where numaplace's plugins are");
	if (strlen(buf) >= size)
		return np__err(err, NP_EINPUT, "the path of plugin '%s' is too long", file);
	memcpy(path, buf, strlen(buf) + 1);
	return 0;
}

#ifdef NP__MODULES_BUILTIN

#if NP_HAVE_HWLOC
extern const struct np__module np__module_hwloc;
#endif
#if NP_HAVE_LIBVIRT
extern const struct np__module np__module_libvirt;
#endif
#if NP_HAVE_XML
extern const struct np__module np__module_xml;
#endif
#if NP_HAVE_RUNTIME
extern const struct np__module np__module_numa;
#endif
#if NP_HAVE_SQLITE
extern const struct np__module np__module_sqlite;
#endif
#if NP_HAVE_POSTGRESQL
extern const struct np__module np__module_postgresql;
#endif
#if NP_HAVE_CURL
extern const struct np__module np__module_curl;
#endif

static const struct np__module *const builtin[] = {
#if NP_HAVE_HWLOC
	&np__module_hwloc,
#endif
#if NP_HAVE_LIBVIRT
	&np__module_libvirt,
#endif
#if NP_HAVE_XML
	&np__module_xml,
#endif
#if NP_HAVE_RUNTIME
	&np__module_numa,
#endif
#if NP_HAVE_SQLITE
	&np__module_sqlite,
#endif
#if NP_HAVE_POSTGRESQL
	&np__module_postgresql,
#endif
#if NP_HAVE_CURL
	&np__module_curl,
#endif
	NULL,
};

static int load(const char *name, const char *library, const struct np__module **out,
		struct np_error *err)
{
	for (size_t i = 0; builtin[i]; i++)
		if (strcmp(builtin[i]->name, name) == 0) {
			*out = builtin[i];
			return 0;
		}
	return np__err(err, NP_EUNSUPPORTED, "this numaplace has no %s support (built without it)",
		       library);
}

#else /* libnumaplace.so */

/* dlerror()'s text as one line. */
static const char *dl_reason(char *buf, size_t size)
{
	const char *e = dlerror();

	snprintf(buf, size, "%s", e ? e : "unknown reason");
	for (char *p = buf; *p; p++)
		if (*p == '\n' || *p == '\r' || *p == '\t')
			*p = ' ';
	return buf;
}

static int load(const char *name, const char *library, const struct np__module **out,
		struct np_error *err)
{
	char file[64], path[PATH_MAX + 64], sym[64], why[300];
	const struct np__module *m;
	struct stat st;
	void *h;

	snprintf(file, sizeof(file), "numaplace-%s.so", name); /* names are known[]'s */
	if (!module_path(file, path, sizeof(path)))
		return np__err(
		    err, NP_EUNSUPPORTED,
		    "this numaplace has no %s support (cannot tell where its modules are)",
		    library);
	if (stat(path, &st) != 0 && (errno == ENOENT || errno == ENOTDIR))
		return np__err(err, NP_EUNSUPPORTED,
			       "this numaplace has no %s support (module '%s' not installed)",
			       library, name);
	h = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
	if (!h)
		return np__err(err, NP_EUNSUPPORTED, "cannot load module '%s': %s", name,
			       dl_reason(why, sizeof(why)));
	snprintf(sym, sizeof(sym), "np__module_%s", name);
	m = dlsym(h, sym);
	if (!m || m->abi != NP__MODULE_ABI || !m->name || strcmp(m->name, name) != 0) {
		unsigned abi = m ? m->abi : 0;

		dlclose(h);
		return np__err(err, NP_EUNSUPPORTED,
			       "cannot load module '%s': '%s' is not this numaplace's %s module "
			       "(ABI %u, want %u)",
			       name, path, name, abi, (unsigned)NP__MODULE_ABI);
	}
	*out = m;
	return 0;
}

#endif

int np__module_get(const char *name, const struct np__module **out, struct np_error *err)
{
	const struct np__module *m = NULL;
	int rc;

	for (size_t i = 0; i < NP__ARRAY_SIZE(known); i++) {
		if (strcmp(known[i].name, name) != 0)
			continue;
		if (!known[i].built)
			return np__err(err, NP_EUNSUPPORTED,
				       "this numaplace has no %s support (built without it)",
				       known[i].library);
		rc = load(name, known[i].library, &m, err);
		if (!rc)
			*out = m;
		return rc;
	}
	return np__err(err, NP_EUNSUPPORTED, "numaplace has no module '%s'", name);
}

/* error.h: libvirt's process-wide printing silenced, through its module. */
void np_set_quiet(void)
{
	const struct np__module *m;

	if (np__module_get("libvirt", &m, NULL) == 0)
		((const struct np__mod_libvirt *)m->ops)->set_quiet();
}
