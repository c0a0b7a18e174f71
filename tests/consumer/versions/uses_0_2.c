/* Calls a function added in libcow 0.2 (symbol version LIBCOW_0.2): the
 * dynamic loader must refuse to start it on a 0.1 library. */
#include <cow.h>
#include <stdio.h>

int main(void) {
    cow_stats_info info;
    cow_str *s = NULL;
    cow_stats_info_init_v2(&info);
    if (cow_str_new(&s, "hello", 5, NULL) != COW_OK) return 1;
    if (cow_stats(s, &info) != COW_OK || info.representation != COW_REPRESENTATION_FLAT) return 1;
    printf("uses_0_2: runs on libcow %s\n", cow_version_string());
    cow_release(s);
    return 0;
}
