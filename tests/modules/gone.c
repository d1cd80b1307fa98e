/*
 * gone.c - a library for fake-module.c to need, which tests/cli/modules.sh
 * leaves out of the module's folder.
 */
int np_test_gone(void);

int np_test_gone(void)
{
	return 0;
}
