/*
 * dtls-probe.c - a library with one thread-local variable, for
 * lsan-dtls.c: loaded with dlopen(), so its TLS block is dynamic,
 * allocated with malloc() by glibc on the first use in a thread (as
 * libvirt's and libxml2's are in every numaplace process that loads the
 * libvirt module).
 */
__thread long np_dtls_probe;

long *np_dtls_probe_addr(void);

long *np_dtls_probe_addr(void)
{
	return &np_dtls_probe;
}
