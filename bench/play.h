/*
 * play.h - `np-bench play` (play.c): every placer of bench/quality on the
 * same workloads; and the JSON string writer np-bench's parts share.
 */
#ifndef NP_BENCH_PLAY_H
#define NP_BENCH_PLAY_H

/* Play every workload of PATH (JSON Lines); NOVA: Nova's recorded answers or NULL. */
int play_file(const char *path, const char *nova);
/* The name a placer has in the output (np-spread, libxl, nova-pack, ...). */
const char *play_placer_name(int placer);
/* S as a JSON string on standard output. */
void play_put_json_str(const char *s);

#endif
