/* cow.h compiles as strict C99 (-std=c99 -Wall -Wextra -pedantic -Werror)
 * and a C program can use it without any macro or inline function. */
#include "cow.h"

#include <stdio.h>
#include <string.h>

int main(void) {
    cow_options opts = COW_OPTIONS_INIT;
    cow_str *s = NULL;
    cow_str *c;
    cow_status st;
    cow_stats_info info;
    if (cow_version() != COW_VERSION_NUMBER) return 1;
    if (strcmp(cow_version_string(), COW_VERSION_STRING) != 0) return 1;
    st = cow_str_new(&s, "hello", 5, &opts);
    if (st != COW_OK) {
        fprintf(stderr, "%s\n", cow_strerror(st));
        return 1;
    }
    c = cow_str_clone(s);
    if (cow_strong_count(s) != 2 || !cow_ptr_eq(s, c)) return 1;
    if (cow_str_append(&c, " world", 6) != COW_OK) return 1;
    if (cow_ptr_eq(s, c) || cow_str_len(s) != 5 || cow_str_len(c) != 11) return 1;
    cow_stats_info_init_v2(&info);
    if (info.size != sizeof info || info.representation != COW_REPRESENTATION_FLAT) return 1;
    info.representation = COW_REPRESENTATION_TREE; /* cow_stats must write it */
    if (cow_stats(c, &info) != COW_OK) return 1;
    if (info.representation != COW_REPRESENTATION_FLAT || info.copies != 1) return 1;
    if (info.nodes_copied != 0 || info.switches != 0) return 1;
    cow_release(c);
    cow_str_release(s);
    return 0;
}
