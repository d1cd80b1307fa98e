/*
 * store-sqlite-vfs.h - the VFS shim the sqlite: store opens its
 * connections through (store-sqlite-vfs.c): a transaction's WAL frames
 * go to the file in one write instead of two writes a frame.
 *
 * Thread-safe: the shims are registered once, under a mutex; each file
 * object is one connection's, used as SQLite uses any file object.
 */
#ifndef NP_FLEET_STORE_SQLITE_VFS_H
#define NP_FLEET_STORE_SQLITE_VFS_H

/*
 * The name of the shim over SQLite's default VFS of this moment (for
 * sqlite3_open_v2's zVfs), registered at the first call for that VFS.
 * NULL, meaning "open with the default VFS itself", when the environment
 * has NP_EXP_NO_WAL_SHIM set to anything but "" or "0" (the A/B switch of
 * docs/bench/service.md), or when the shim cannot be registered (out of
 * memory, too many different default VFSes in one process).
 */
const char *np__walvfs(void);

#endif
