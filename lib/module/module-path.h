/*
 * module-path.h - where a file of numaplace's modules is: the one search
 * (module.h says the order) that libnumaplace uses for numaplace-NAME.so
 * and the tool uses for the service plugin, numaplace-serve.so
 * (cli/cmd-serve.c), which is built in a folder of its own.  Exported by
 * libnumaplace.so alone, under its private version (libnumaplace.map.in).
 */
#ifndef NP_MODULE_PATH_H
#define NP_MODULE_PATH_H

#include <stdbool.h>
#include <stddef.h>

/*
 * The path of module file FILE ("numaplace-serve.so") into PATH: in
 * $NUMAPLACE_MODULE_DIR; else, when the library is its build tree's, in
 * BUILD_DIR (NULL: the library's own build folder); else in numaplace/
 * beside the library file.  False when that cannot be told or PATH is too
 * short.
 */
bool np__module_path(const char *file, const char *build_dir, char *path, size_t size);

#endif
