/*
 * lv-util.h - how libnumaplace talks to libvirt, for every file that
 * opens a connection (topology/src-libvirt-uri.c, runtime/libvirt.c).
 *
 * Quiet without touching the application: libvirt prints an error to
 * stderr unless an error function takes it.  The process-wide one
 * (virSetErrorFunc) belongs to the application that links libnumaplace,
 * so the library sets a silent function on each connection it opens
 * (virConnSetErrorFunc) and reads errors back with virGetLastError (per
 * thread).  An error raised before there is a connection (the open
 * itself failing) goes to the application's function: libvirt has no other
 * way to silence it.  A program that reports errors its own way (the
 * numaplace tool) asks for a silent one with np_set_quiet(), which calls
 * np__lv_set_quiet() here, so that the program itself need not link
 * libvirt.
 *
 * This file is part of module libvirt (module/module.h).
 */
#ifndef NP_LV_UTIL_H
#define NP_LV_UTIL_H

#include <stdbool.h>
#include <stddef.h>

#include <libvirt/libvirt.h>

/* Open URI (READONLY or read-write) with a silent error function on the connection; NULL on failure. */
virConnectPtr np__lv_open(const char *uri, bool readonly);

/* libvirt's process-wide error function made silent (np_set_quiet() in error.h). */
void np__lv_set_quiet(void);

/* libvirt's last error of this thread as one line (no newlines or tabs), in BUF. */
const char *np__lv_message(char *buf, size_t size);

#endif
