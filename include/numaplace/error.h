/*
 * error.h - how libnumaplace reports failure.
 *
 * Every action returns 0 or a negative NP_E* code.  When the caller passes
 * a struct np_error, it is filled (code and one lower-case line, no final
 * period) only on failure, and left untouched on success.  There is no
 * hidden "last error" state: the library is safe to use from several
 * threads as long as each thread passes its own np_error.
 */
#ifndef NUMAPLACE_ERROR_H
#define NUMAPLACE_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

enum np_errcode {
	NP_OK = 0,
	NP_ENOMEM = -1,       /* out of memory */
	NP_EINPUT = -2,       /* bad input: a file's content, a spec, an argument */
	NP_EIO = -3,          /* an input could not be read (missing, permission) */
	NP_EUNSUPPORTED = -4, /* not supported on this host or in this build */
	NP_ENOFIT = -5,       /* no placement satisfies the request */
	NP_EOS = -6,          /* an operating-system or libvirt operation failed */
};

#define NP_ERROR_MAX 512

struct np_error {
	int code;                  /* one of enum np_errcode */
	char message[NP_ERROR_MAX];
	/*
	 * A stable snake_case name of the rule that failed, for programs
	 * (e.g. "numa_topology_asymmetric"), or "" when there is none.
	 */
	char reason[48];
};

/* A short fixed name for a code, such as "bad input"; never NULL. */
const char *np_strerror(int code);

/*
 * For programs that report every error themselves: make libvirt print
 * nothing of its own on stderr, for the whole process.  libnumaplace keeps
 * its own libvirt connections quiet without this, but a connection that
 * fails to open reports through libvirt's process-wide error function,
 * which belongs to the application (by default it prints "libvirt: error
 * : ...").  This sets that function to a silent one, replacing the
 * application's.  It loads the libvirt module (and libvirt, a few
 * milliseconds): call it where libvirt is about to be used, before the
 * first libvirt source or target.  Without libvirt support it does
 * nothing.  Not thread-safe against libvirt calls in other threads.
 */
void np_set_quiet(void);

#ifdef __cplusplus
}
#endif
#endif
