/*
 * xlcfg-same.c - Xen's own parser as the judge of numaplace's xl.cfg
 * merge: reads the file before and after with libxlutil's
 * xlu_cfg_readfile() (what `xl create` uses) and compares every setting
 * but the merged ones, value by value, lists item by item.
 *
 *   xlcfg-same BEFORE AFTER [-m KEY]... [-w KEY]...
 *     -m KEY   a setting numaplace merged: not compared
 *     -w KEY   a setting AFTER must have (the plan's)
 * Exit 0 and "same: N settings" when every other setting has the same
 * value in both; 1 and "differs: KEY" otherwise; 2 when Xen's parser
 * refuses either file (its complaint on stderr).
 *
 * libxlutil cannot list a file's settings, so the names compared are
 * every identifier followed by '=' or '+=' anywhere in either file (in
 * strings and comments too): a superset, since a name that is no setting
 * is absent from both parsed files alike.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxlutil.h>

#define MAX_NAMES 4096

static char *names[MAX_NAMES];
static int nnames;

static bool ident(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.';
}

static void add_name(const char *s, size_t n)
{
	for (int i = 0; i < nnames; i++)
		if (strlen(names[i]) == n && memcmp(names[i], s, n) == 0)
			return;
	if (nnames < MAX_NAMES)
		names[nnames++] = strndup(s, n);
}

/* Every [a-z][a-z0-9_.]* followed by blanks and '=' or '+=' in the file PATH. */
static int scan(const char *path)
{
	FILE *f = fopen(path, "r");
	static char buf[1 << 20];
	size_t len;

	if (!f)
		return -1;
	len = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[len] = '\0';
	for (size_t i = 0; i < len; i++) {
		size_t j = i, k;

		if (!(buf[i] >= 'a' && buf[i] <= 'z') || (i > 0 && ident(buf[i - 1])))
			continue;
		while (j < len && ident(buf[j]))
			j++;
		for (k = j; k < len && (buf[k] == ' ' || buf[k] == '\t'); k++)
			;
		if (buf[k] == '=' || (buf[k] == '+' && buf[k + 1] == '='))
			add_name(buf + i, j - i);
		i = j - 1;
	}
	return 0;
}

static XLU_Config *load(const char *path)
{
	XLU_Config *c = xlu_cfg_init(stderr, path);

	if (c && xlu_cfg_readfile(c, path) != 0) {
		fprintf(stderr, "xlcfg-same: Xen's parser refuses '%s'\n", path);
		xlu_cfg_destroy(c);
		return NULL;
	}
	return c;
}

static bool same_value(const XLU_Config *a, XLU_ConfigValue *x, const XLU_Config *b,
		       XLU_ConfigValue *y);

static bool same_list(const XLU_Config *a, XLU_ConfigList *la, const XLU_Config *b,
		      XLU_ConfigList *lb)
{
	for (int i = 0;; i++) {
		XLU_ConfigValue *x = xlu_cfg_get_listitem2(la, i);
		XLU_ConfigValue *y = xlu_cfg_get_listitem2(lb, i);

		if (!x || !y)
			return !x && !y;
		if (!same_value(a, x, b, y))
			return false;
	}
}

static bool same_value(const XLU_Config *a, XLU_ConfigValue *x, const XLU_Config *b,
		       XLU_ConfigValue *y)
{
	char *sx, *sy;
	XLU_ConfigList *lx, *ly;

	if (xlu_cfg_value_type(x) != xlu_cfg_value_type(y))
		return false;
	if (xlu_cfg_value_type(x) == XLU_STRING)
		return !xlu_cfg_value_get_string(a, x, &sx, 1) &&
		       !xlu_cfg_value_get_string(b, y, &sy, 1) && strcmp(sx, sy) == 0;
	return !xlu_cfg_value_get_list(a, x, &lx, 1) && !xlu_cfg_value_get_list(b, y, &ly, 1) &&
	       same_list(a, lx, b, ly);
}

/* 0 same, 1 differs, for setting NAME; *SET whether B has it. */
static int compare(const XLU_Config *a, const XLU_Config *b, const char *name, bool *set)
{
	const char *sa, *sb;
	XLU_ConfigList *la, *lb;
	int ra = xlu_cfg_get_string(a, name, &sa, 1), rb = xlu_cfg_get_string(b, name, &sb, 1);

	*set = rb != ESRCH;
	if (ra != rb)
		return 1;
	if (ra == 0)
		return strcmp(sa, sb) != 0;
	if (ra == ESRCH)
		return 0;
	ra = xlu_cfg_get_list(a, name, &la, NULL, 1);
	rb = xlu_cfg_get_list(b, name, &lb, NULL, 1);
	return ra || rb || !same_list(a, la, b, lb);
}

static bool listed(char **keys, int n, const char *name)
{
	for (int i = 0; i < n; i++)
		if (strcmp(keys[i], name) == 0)
			return true;
	return false;
}

int main(int argc, char **argv)
{
	char *merged[64], *wanted[64];
	int nm = 0, nw = 0, compared = 0, rc = 0;
	XLU_Config *a, *b;
	bool set;

	for (int i = 3; i + 1 < argc && nm < 64 && nw < 64; i += 2) {
		if (strcmp(argv[i], "-m") == 0)
			merged[nm++] = argv[i + 1];
		else if (strcmp(argv[i], "-w") == 0)
			wanted[nw++] = argv[i + 1];
	}
	if (argc < 3 || scan(argv[1]) || scan(argv[2])) {
		fprintf(stderr, "usage: xlcfg-same BEFORE AFTER [-m KEY]... [-w KEY]...\n");
		return 2;
	}
	if (!(a = load(argv[1])) || !(b = load(argv[2])))
		return 2;
	for (int i = 0; i < nnames && !rc; i++) {
		if (listed(merged, nm, names[i]))
			continue;
		compared += xlu_cfg_get_string(a, names[i], &(const char *){ NULL }, 1) != ESRCH;
		if (compare(a, b, names[i], &set)) {
			printf("differs: %s\n", names[i]);
			rc = 1;
		}
	}
	for (int i = 0; i < nw && !rc; i++)
		if (compare(b, b, wanted[i], &set) || !set) {
			printf("missing: %s\n", wanted[i]);
			rc = 1;
		}
	if (!rc)
		printf("same: %d settings\n", compared);
	xlu_cfg_destroy(a);
	xlu_cfg_destroy(b);
	return rc;
}
