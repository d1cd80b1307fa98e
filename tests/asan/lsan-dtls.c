/*
 * lsan-dtls.c - a correct program that LeakSanitizer's tracer crashes on
 * when the sanitizer runtime intercepts __tls_get_addr (lsan-dtls.sh).
 *
 * Up to GCC 13 and LLVM 16 that interceptor takes a dynamic TLS block that
 * starts 16 bytes into a page for one carrying a glibc 2.19 header, and
 * reads the 16 bytes before it - the allocator's chunk header - as the
 * block's start and size.  The leak check at exit scans that range and
 * the tracer dies: "Tracer caught signal 11", "LeakSanitizer has
 * encountered a fatal error", exit 1.  Whether a block lands there depends
 * on everything allocated before it, so in the tests it looked like luck.
 *
 *   lsan-dtls LIB K   allocate 8-byte blocks (kept) until the K-th next
 *                     32-byte chunk of their size class starts a page,
 *                     dlopen LIB (dtls-probe.c), write its thread-local
 *                     variable, print "offset N" (its offset in its page)
 *                     and exit 0
 */
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define STEPS 4096

static void *kept[STEPS];

int main(int argc, char **argv)
{
	long k = argc == 3 ? strtol(argv[2], NULL, 10) : -1;
	void *lib, *sym;
	long *(*probe)(void) = NULL;
	long *v;

	if (k < 0) {
		fprintf(stderr, "usage: lsan-dtls LIB K\n");
		return 2;
	}
	/* ASan's 8-byte blocks: 32-byte chunks, the block 16 bytes after the chunk's start. */
	for (int i = 0; i < STEPS; i++) {
		uintptr_t p = (uintptr_t)(kept[i] = malloc(8));

		if (!kept[i] || (p - 16 + 32 * (uintptr_t)(k + 1)) % 4096 == 0)
			break;
	}
	lib = dlopen(argv[1], RTLD_NOW);
	if (lib && (sym = dlsym(lib, "np_dtls_probe_addr")))
		memcpy(&probe, &sym, sizeof(probe)); /* POSIX: a function's address as data */
	if (!probe) {
		fprintf(stderr, "lsan-dtls: %s\n", dlerror());
		return 2;
	}
	v = probe();
	*v = 1;
	printf("offset %lu\n", (unsigned long)((uintptr_t)v % 4096));
	fflush(stdout); /* before the leak check at exit, which may crash */
	return 0;
}
