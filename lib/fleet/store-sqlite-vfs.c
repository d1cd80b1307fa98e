/*
 * store-sqlite-vfs.c - a VFS shim under the sqlite: store
 * (store-sqlite-vfs.h) that writes a transaction's WAL frames to the file
 * with one write instead of two writes a frame.
 *
 * Why: SQLite writes each WAL frame as two writes, its 24-byte header and
 * then its page (wal.c, walWriteOneFrame() calls walWriteToLog() twice).
 * A claim commits ~9 frames: ~18 pwrite64 calls, on a machine where the
 * kernel took about half of the servers' CPU (docs/bench/service.md).
 *
 * Design: the shim wraps whatever VFS is SQLite's default when the store
 * opens (the "unix" VFS; a test's VFS in tests), one shim per wrapped VFS.
 * Only the -wal file (SQLITE_OPEN_WAL in xOpen's flags) gets a wrapper;
 * the database file is the wrapped VFS's own file object, opened straight
 * into SQLite's memory, and the -shm is that file's business.  The
 * wrapper keeps the WAL's writes in a buffer that mirrors the bytes of
 * the file from offset OFF on: a write that continues the buffer or falls
 * inside it goes into it; any other write flushes it first and starts it
 * anew.  The buffer is written with one xWrite of the wrapped file:
 * - after the page of a commit frame.  A frame header's bytes 4..7 hold
 *   the database's size in pages after the commit, zero in every frame
 *   but a transaction's last (wal.c, walEncodeFrame()), whose page is
 *   always appended right after its header (walFrames() overwrites only
 *   earlier pages in place).  SQLite makes the commit visible to other
 *   connections in the -shm (walIndexWriteHdr()) only after the frames'
 *   writes returned, so by then the whole transaction is in the file.
 * - before every other call on the file: xRead (the writer reading its own
 *   spilled frames back), xSync (the store's settle() syncs this file
 *   object, SQLITE_FCNTL_JOURNAL_POINTER: the frames reach the disk too),
 *   xTruncate, xFileSize, xFileControl, xClose, and xFetch;
 * - when the buffer would pass BUF_MAX (a transaction of more than ~31
 *   frames: a bulk load's).
 * A frame header written over the frame that was read just before is
 * written through at once: that is walRewriteChecksums() after a
 * transaction overwrote one of its spilled frames, and no page follows.
 * A failed write of the buffer is the error of the call that made it
 * (SQLITE_FULL, SQLITE_IOERR_WRITE...), and the buffer is dropped: the
 * statement fails and SQLite rolls the transaction back; what a commit
 * wrote is never dropped after its xWrite returned, as it is in the file.
 *
 * What it relies on: a frame header is one xWrite of 24 bytes, its page
 * one xWrite after it.  SQLite splits a frame's write only where it pads a
 * commit to a sector boundary (walWriteToLog() with an iSyncPoint): at
 * synchronous=FULL or EXTRA on a database whose device lacks powersafe
 * overwrite.  The store opens through the shim only below FULL
 * (store-sqlite.c, sq_open), and a WAL file whose device lacks it
 * (xDeviceCharacteristics) is passed through unbuffered whatever the level.
 *
 * Ownership: a wrapper's buffer is its file's (freed by xClose); a file
 * object is used by one connection at a time, as SQLite uses every file.
 * The shims live for the process (the module is never unloaded).
 */
#include <pthread.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fleet/store-sqlite-vfs.h"

#define FRAME_HDR 24	  /* a WAL frame's header (wal.c WAL_FRAME_HDRSIZE) */
#define BUF_MIN (64 << 10) /* a buffer's first size: a claim's ~9 frames of 4 KiB */
/*
 * The most the buffer holds: the unix VFS writes at most 128 KiB - 1 in
 * one call (os_unix.c, seekAndWriteFd(): nBuf &= 0x1ffff; more is a short
 * write, SQLITE_FULL), as SQLite itself never asks for more.  A bigger
 * transaction goes to the file in pieces of up to 31 frames of 4 KiB.
 */
#define BUF_MAX 0x1ffff
#define SHIMS_MAX 4	  /* different default VFSes in one process */

/* One shim: the VFS SQLite calls, over BASE. */
struct shim {
	sqlite3_vfs vfs; /* pAppData: this struct */
	sqlite3_vfs *base;
	char name[96];
};

static struct shim shims[SHIMS_MAX];
static int nshims;
static pthread_mutex_t shims_mu = PTHREAD_MUTEX_INITIALIZER;

/* The wrapper of one -wal file. */
struct wal_file {
	sqlite3_file file;	     /* pMethods: &methods */
	sqlite3_io_methods methods;  /* wal_methods at the wrapped file's version */
	sqlite3_file *real;	     /* the wrapped VFS's file, right after this struct */
	bool coalesce;		     /* false: every call goes straight through */
	bool commit_due;	     /* a commit frame's header is buffered: flush after its page */
	unsigned char *buf;	     /* the file's bytes [off, off + len) not written yet */
	size_t len, cap;
	sqlite3_int64 off;
	sqlite3_int64 read_at;	     /* the last read or write was an xRead at this offset; else -1 */
};

static sqlite3_file *real_of(sqlite3_file *f)
{
	return ((struct wal_file *)f)->real;
}

/* W's buffer into the file: one write.  Dropped whatever the outcome. */
static int flush(struct wal_file *w)
{
	int rc;

	if (!w->len)
		return SQLITE_OK;
	rc = w->real->pMethods->xWrite(w->real, w->buf, (int)w->len, w->off);
	w->len = 0;
	return rc;
}

/* W's buffer able to hold NEED bytes (at most BUF_MAX); false when out of memory. */
static bool grow(struct wal_file *w, size_t need)
{
	size_t cap = w->cap ? w->cap : BUF_MIN;
	unsigned char *p;

	while (cap < need)
		cap *= 2;
	if (cap > BUF_MAX)
		cap = BUF_MAX;
	if (cap <= w->cap)
		return true;
	if (!(p = realloc(w->buf, cap)))
		return false;
	w->buf = p;
	w->cap = cap;
	return true;
}

/*
 * DATA (N bytes at OFF) into W's buffer: appended to it, or laid over
 * bytes it holds.  A write elsewhere, or one that would take the buffer
 * past BUF_MAX, flushes it first; a write that cannot be buffered even
 * then (bigger than BUF_MAX, no memory) goes straight to the file.
 */
static int buffer(struct wal_file *w, const void *data, int n, sqlite3_int64 off)
{
	sqlite3_int64 end = w->off + (sqlite3_int64)w->len;
	int rc;

	if (w->len && (off < w->off || off > end || off + n - w->off > BUF_MAX) &&
	    (rc = flush(w)) != SQLITE_OK)
		return rc;
	if (!w->len)
		w->off = off;
	if (off + n - w->off > BUF_MAX || !grow(w, (size_t)(off + n - w->off))) {
		if ((rc = flush(w)) != SQLITE_OK)
			return rc;
		return w->real->pMethods->xWrite(w->real, data, n, off);
	}
	memcpy(w->buf + (off - w->off), data, (size_t)n);
	if ((size_t)(off + n - w->off) > w->len)
		w->len = (size_t)(off + n - w->off);
	return SQLITE_OK;
}

/* A frame header's "database size after commit" (bytes 4..7, big-endian) is not zero. */
static bool commits(const unsigned char *hdr)
{
	return hdr[4] | hdr[5] | hdr[6] | hdr[7];
}

static int w_write(sqlite3_file *f, const void *data, int n, sqlite3_int64 off)
{
	struct wal_file *w = (struct wal_file *)f;
	bool header = n == FRAME_HDR;
	bool rewrite = header && off == w->read_at;
	int rc;

	w->read_at = -1;
	if (!w->coalesce)
		return w->real->pMethods->xWrite(w->real, data, n, off);
	if (rewrite) /* walRewriteChecksums(): no page follows this header */
		return (rc = flush(w)) != SQLITE_OK ? rc
						    : w->real->pMethods->xWrite(w->real, data, n, off);
	if (header && commits(data))
		w->commit_due = true;
	if ((rc = buffer(w, data, n, off)) != SQLITE_OK)
		return rc;
	if (!header && w->commit_due) { /* the commit frame's page: the transaction is whole */
		w->commit_due = false;
		return flush(w);
	}
	return SQLITE_OK;
}

static int w_read(sqlite3_file *f, void *data, int n, sqlite3_int64 off)
{
	struct wal_file *w = (struct wal_file *)f;
	int rc = flush(w);

	if (rc != SQLITE_OK)
		return rc;
	w->read_at = off;
	return w->real->pMethods->xRead(w->real, data, n, off);
}

static int w_close(sqlite3_file *f)
{
	struct wal_file *w = (struct wal_file *)f;
	int rc = flush(w);
	int rc2 = w->real->pMethods->xClose(w->real);

	free(w->buf);
	w->buf = NULL;
	w->cap = 0;
	return rc != SQLITE_OK ? rc : rc2;
}

static int w_truncate(sqlite3_file *f, sqlite3_int64 size)
{
	int rc = flush((struct wal_file *)f);

	return rc != SQLITE_OK ? rc : real_of(f)->pMethods->xTruncate(real_of(f), size);
}

static int w_sync(sqlite3_file *f, int flags)
{
	int rc = flush((struct wal_file *)f);

	return rc != SQLITE_OK ? rc : real_of(f)->pMethods->xSync(real_of(f), flags);
}

static int w_size(sqlite3_file *f, sqlite3_int64 *size)
{
	int rc = flush((struct wal_file *)f);

	return rc != SQLITE_OK ? rc : real_of(f)->pMethods->xFileSize(real_of(f), size);
}

static int w_fcntl(sqlite3_file *f, int op, void *arg)
{
	int rc = flush((struct wal_file *)f);

	return rc != SQLITE_OK ? rc : real_of(f)->pMethods->xFileControl(real_of(f), op, arg);
}

static int w_lock(sqlite3_file *f, int lock)
{
	return real_of(f)->pMethods->xLock(real_of(f), lock);
}

static int w_unlock(sqlite3_file *f, int lock)
{
	return real_of(f)->pMethods->xUnlock(real_of(f), lock);
}

static int w_reserved(sqlite3_file *f, int *out)
{
	return real_of(f)->pMethods->xCheckReservedLock(real_of(f), out);
}

static int w_sector(sqlite3_file *f)
{
	return real_of(f)->pMethods->xSectorSize(real_of(f));
}

static int w_caps(sqlite3_file *f)
{
	return real_of(f)->pMethods->xDeviceCharacteristics(real_of(f));
}

/* The -shm belongs to the database file: SQLite never asks a WAL's for it. */
static int w_shm_map(sqlite3_file *f, int pg, int size, int extend, void volatile **p)
{
	return real_of(f)->pMethods->xShmMap(real_of(f), pg, size, extend, p);
}

static int w_shm_lock(sqlite3_file *f, int off, int n, int flags)
{
	return real_of(f)->pMethods->xShmLock(real_of(f), off, n, flags);
}

static void w_shm_barrier(sqlite3_file *f)
{
	real_of(f)->pMethods->xShmBarrier(real_of(f));
}

static int w_shm_unmap(sqlite3_file *f, int del)
{
	return real_of(f)->pMethods->xShmUnmap(real_of(f), del);
}

static int w_fetch(sqlite3_file *f, sqlite3_int64 off, int n, void **p)
{
	int rc = flush((struct wal_file *)f);

	return rc != SQLITE_OK ? rc : real_of(f)->pMethods->xFetch(real_of(f), off, n, p);
}

static int w_unfetch(sqlite3_file *f, sqlite3_int64 off, void *p)
{
	return real_of(f)->pMethods->xUnfetch(real_of(f), off, p);
}

/* Version 3; a wrapper has the wrapped file's version (methods it lacks are never called). */
static const sqlite3_io_methods wal_methods = {
	.iVersion = 3,
	.xClose = w_close,
	.xRead = w_read,
	.xWrite = w_write,
	.xTruncate = w_truncate,
	.xSync = w_sync,
	.xFileSize = w_size,
	.xLock = w_lock,
	.xUnlock = w_unlock,
	.xCheckReservedLock = w_reserved,
	.xFileControl = w_fcntl,
	.xSectorSize = w_sector,
	.xDeviceCharacteristics = w_caps,
	.xShmMap = w_shm_map,
	.xShmLock = w_shm_lock,
	.xShmBarrier = w_shm_barrier,
	.xShmUnmap = w_shm_unmap,
	.xFetch = w_fetch,
	.xUnfetch = w_unfetch,
};

/* ---- the VFS: xOpen wraps a -wal file, the rest goes to the wrapped VFS --- */

static sqlite3_vfs *base_of(sqlite3_vfs *vfs)
{
	return ((struct shim *)vfs->pAppData)->base;
}

static int v_open(sqlite3_vfs *vfs, sqlite3_filename name, sqlite3_file *f, int flags, int *out)
{
	sqlite3_vfs *base = base_of(vfs);
	struct wal_file *w = (struct wal_file *)f;
	int rc;

	if (!(flags & SQLITE_OPEN_WAL)) /* the database, a journal: the wrapped VFS's own file */
		return base->xOpen(base, name, f, flags, out);
	memset(w, 0, sizeof(*w));
	w->real = (sqlite3_file *)(w + 1);
	rc = base->xOpen(base, name, w->real, flags, out);
	if (rc != SQLITE_OK) {
		if (w->real->pMethods) /* SQLite's rule: a file with methods is closed */
			w->real->pMethods->xClose(w->real);
		w->file.pMethods = NULL;
		return rc;
	}
	w->methods = wal_methods;
	if (w->real->pMethods->iVersion < w->methods.iVersion)
		w->methods.iVersion = w->real->pMethods->iVersion;
	w->coalesce = w->real->pMethods->xDeviceCharacteristics(w->real) &
		      SQLITE_IOCAP_POWERSAFE_OVERWRITE;
	w->read_at = -1;
	w->file.pMethods = &w->methods;
	return SQLITE_OK;
}

static int v_delete(sqlite3_vfs *vfs, const char *name, int dir_sync)
{
	return base_of(vfs)->xDelete(base_of(vfs), name, dir_sync);
}

static int v_access(sqlite3_vfs *vfs, const char *name, int flags, int *out)
{
	return base_of(vfs)->xAccess(base_of(vfs), name, flags, out);
}

static int v_full(sqlite3_vfs *vfs, const char *name, int n, char *out)
{
	return base_of(vfs)->xFullPathname(base_of(vfs), name, n, out);
}

static void *v_dlopen(sqlite3_vfs *vfs, const char *name)
{
	return base_of(vfs)->xDlOpen(base_of(vfs), name);
}

static void v_dlerror(sqlite3_vfs *vfs, int n, char *out)
{
	base_of(vfs)->xDlError(base_of(vfs), n, out);
}

static void (*v_dlsym(sqlite3_vfs *vfs, void *h, const char *sym))(void)
{
	return base_of(vfs)->xDlSym(base_of(vfs), h, sym);
}

static void v_dlclose(sqlite3_vfs *vfs, void *h)
{
	base_of(vfs)->xDlClose(base_of(vfs), h);
}

static int v_random(sqlite3_vfs *vfs, int n, char *out)
{
	return base_of(vfs)->xRandomness(base_of(vfs), n, out);
}

static int v_sleep(sqlite3_vfs *vfs, int us)
{
	return base_of(vfs)->xSleep(base_of(vfs), us);
}

static int v_time(sqlite3_vfs *vfs, double *out)
{
	return base_of(vfs)->xCurrentTime(base_of(vfs), out);
}

static int v_error(sqlite3_vfs *vfs, int n, char *out)
{
	return base_of(vfs)->xGetLastError(base_of(vfs), n, out);
}

static int v_time64(sqlite3_vfs *vfs, sqlite3_int64 *out)
{
	return base_of(vfs)->xCurrentTimeInt64(base_of(vfs), out);
}

static int v_setcall(sqlite3_vfs *vfs, const char *name, sqlite3_syscall_ptr p)
{
	return base_of(vfs)->xSetSystemCall(base_of(vfs), name, p);
}

static sqlite3_syscall_ptr v_getcall(sqlite3_vfs *vfs, const char *name)
{
	return base_of(vfs)->xGetSystemCall(base_of(vfs), name);
}

static const char *v_nextcall(sqlite3_vfs *vfs, const char *name)
{
	return base_of(vfs)->xNextSystemCall(base_of(vfs), name);
}

/* S made the shim over BASE, number I: BASE's version (3 at most), its optional methods where it has them. */
static void shim_init(struct shim *s, sqlite3_vfs *base, int i)
{
	sqlite3_vfs *v = &s->vfs;
	int ver = base->iVersion < 3 ? base->iVersion : 3;

	memset(s, 0, sizeof(*s));
	s->base = base;
	snprintf(s->name, sizeof(s->name), "np-wal%d-%s", i, base->zName);
	*v = (sqlite3_vfs){
		.iVersion = ver,
		.szOsFile = (int)sizeof(struct wal_file) + base->szOsFile,
		.mxPathname = base->mxPathname,
		.zName = s->name,
		.pAppData = s,
		.xOpen = v_open,
		.xDelete = v_delete,
		.xAccess = v_access,
		.xFullPathname = v_full,
		.xDlOpen = base->xDlOpen ? v_dlopen : NULL,
		.xDlError = base->xDlError ? v_dlerror : NULL,
		.xDlSym = base->xDlSym ? v_dlsym : NULL,
		.xDlClose = base->xDlClose ? v_dlclose : NULL,
		.xRandomness = v_random,
		.xSleep = v_sleep,
		.xCurrentTime = v_time,
		.xGetLastError = v_error,
		.xCurrentTimeInt64 = ver >= 2 && base->xCurrentTimeInt64 ? v_time64 : NULL,
		.xSetSystemCall = ver >= 3 && base->xSetSystemCall ? v_setcall : NULL,
		.xGetSystemCall = ver >= 3 && base->xGetSystemCall ? v_getcall : NULL,
		.xNextSystemCall = ver >= 3 && base->xNextSystemCall ? v_nextcall : NULL,
	};
}

/* NP_EXP_NO_WAL_SHIM set, and not to "" or "0". */
static bool opted_out(void)
{
	const char *v = getenv("NP_EXP_NO_WAL_SHIM");

	return v && v[0] && strcmp(v, "0") != 0;
}

const char *np__walvfs(void)
{
	struct shim *s = NULL;
	sqlite3_vfs *base;

	if (opted_out() || sqlite3_initialize() != SQLITE_OK || !(base = sqlite3_vfs_find(NULL)))
		return NULL;
	pthread_mutex_lock(&shims_mu);
	for (int i = 0; i < nshims && !s; i++)
		if (shims[i].base == base || &shims[i].vfs == base)
			s = &shims[i];
	if (!s && nshims < SHIMS_MAX) {
		shim_init(&shims[nshims], base, nshims);
		if (sqlite3_vfs_register(&shims[nshims].vfs, 0) == SQLITE_OK)
			s = &shims[nshims++];
	}
	pthread_mutex_unlock(&shims_mu);
	return s ? s->vfs.zName : NULL;
}
