/* Calls only functions of libcow 0.1 (symbol version LIBCOW_0): it must load
 * and run on a 0.1 library and on a 0.2 one. */
#include <cow.h>
#include <stdio.h>

int main(void) {
    cow_stats_info info;
    cow_str *s = NULL;
    cow_stats_info_init(&info);
    if (cow_str_new(&s, "hello", 5, NULL) != COW_OK) return 1;
    if (cow_stats(s, &info) != COW_OK || info.value_bytes != 5) return 1;
    printf("uses_0_1: runs on libcow %s\n", cow_version_string());
    cow_release(s);
    return 0;
}
