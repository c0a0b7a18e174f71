/* A plain C program using the *installed* libcow, built the way a user
 * builds it:  cc consumer.c $(pkg-config --cflags --libs cow)
 * It creates, clones, writes and reads statistics of every kind of value
 * and checks each result; it exits non-zero on any failure. */
#include <cow.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static int passed, failed;

#define CHECK(cond)                                                        \
    do {                                                                   \
        if (cond) {                                                        \
            passed++;                                                      \
        } else {                                                           \
            failed++;                                                      \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
        }                                                                  \
    } while (0)

#define OK(call) CHECK((call) == COW_OK)

/* Reads through a returned pointer, or a marker value when it is NULL (so
 * that a wrong NULL is a failed check, not a crash). */
static int32_t i32_at(const void *p) { return p ? *(const int32_t *)p : INT32_MIN; }
static uint64_t u64_at(const void *p) { return p ? *(const uint64_t *)p : UINT64_MAX; }
static double x_of(const void *p) { return p ? ((const double *)p)[0] : -1.0; }

static cow_stats_info stats_of(const void *handle) {
    cow_stats_info s;
    cow_stats_info_init(&s);
    OK(cow_stats(handle, &s));
    return s;
}

static void strings(void) {
    cow_str *a = NULL, *b, *report = NULL;
    cow_stats_info s;
    const char *text;
    OK(cow_str_new(&a, "hello", 5, NULL));
    b = cow_str_clone(a);
    CHECK(b != NULL && cow_ptr_eq(a, b));
    CHECK(cow_strong_count(a) == 2 && cow_is_shared(a));
    CHECK(cow_str_data(a) == cow_str_data(b));

    /* A write to a shared string copies; the other holder is unchanged. */
    OK(cow_str_append(&b, " world", 6));
    CHECK(!cow_ptr_eq(a, b));
    CHECK(cow_str_len(a) == 5 && memcmp(cow_str_data(a), "hello", 5) == 0);
    CHECK(cow_str_len(b) == 11 && memcmp(cow_str_data(b), "hello world", 11) == 0);
    OK(cow_str_cstr(&b, &text));
    CHECK(strcmp(text, "hello world") == 0);

    /* Invalid UTF-8 is refused and changes nothing. */
    CHECK(cow_str_append(&b, "\xc3", 1) == COW_EUTF8);
    CHECK(cow_str_len(b) == 11);

    s = stats_of(a);
    CHECK(s.enabled == 1 && s.clones == 1 && s.copies == 1 && s.bytes_copied == 5);
    CHECK(s.copy_rate == 1.0);
    OK(cow_stats_report(a, COW_REPORT_TEXT, &report));
    CHECK(strncmp(cow_str_data(report), "Clones: 1\nCopies: 1\nCopy rate: 100.0%\n", 38) == 0);
    cow_release(report);
    cow_str_release(b);
    CHECK(cow_strong_count(a) == 1 && !cow_is_shared(a));
    cow_release(a);
}

static void buffers(void) {
    cow_buf *a = NULL, *b;
    uint8_t *data;
    const uint8_t *before;
    cow_owned owned;
    memset(&owned, 0, sizeof owned);
    OK(cow_buf_with_capacity(&a, 64, NULL));
    OK(cow_buf_append(&a, "abc", 3));
    before = cow_buf_data(a);
    /* Unique and with room: written in place. */
    OK(cow_buf_append(&a, "def", 3));
    data = NULL;
    OK(cow_buf_make_mut(&a, &data));
    if (data) data[0] = 'A';
    CHECK(cow_buf_data(a) == before && data == before);
    CHECK(stats_of(a).copies == 0);

    b = (cow_buf *)cow_clone(a);
    data = NULL;
    OK(cow_buf_make_mut(&b, &data));
    if (data) data[0] = 'Z';
    CHECK(cow_buf_len(a) == 6 && cow_buf_data(a)[0] == 'A' && cow_buf_data(b)[0] == 'Z');
    CHECK(cow_buf_compare(a, b) < 0 && !cow_buf_equal(a, b));
    CHECK(cow_buf_erase(&b, 4, 10) == COW_ERANGE);
    OK(cow_buf_into(&b, &owned));
    CHECK(b == NULL && owned.len == 6 && memcmp(owned.data, "Zbcdef", 6) == 0);
    cow_owned_free(&owned);
    CHECK(owned.data == NULL);
    cow_buf_release(a);
}

static void vectors(void) {
    cow_vec *a = NULL, *b;
    const int32_t init[3] = {1, 2, 3};
    int32_t x = 4, old = 0;
    const void *data;
    const void *span;
    size_t count, seen = 0;
    int64_t sum = 0;
    cow_vec_cursor cursor;
    OK(cow_vec_from_array(&a, cow_type_i32(), init, 3, NULL));
    b = cow_vec_clone(a);
    OK(cow_vec_push(&b, &x));
    CHECK(cow_vec_len(a) == 3 && cow_vec_len(b) == 4);
    x = 100;
    OK(cow_vec_set(&b, 0, &x, &old));
    CHECK(old == 1 && i32_at(cow_vec_get(a, 0)) == 1);
    CHECK(i32_at(cow_vec_get(b, 0)) == 100);
    OK(cow_vec_pop(&b, &x));
    CHECK(x == 4 && cow_vec_len(b) == 3);
    OK(cow_vec_data(a, &data));
    CHECK(data != NULL && memcmp(data, init, sizeof init) == 0);
    OK(cow_vec_cursor_init(&cursor, b));
    while (cow_vec_next_span(&cursor, &span, &count)) {
        size_t i;
        for (i = 0; i < count; i++) sum += ((const int32_t *)span)[i];
        seen += count;
    }
    CHECK(seen == 3 && sum == 105);
    CHECK(stats_of(a).copies == 1);
    cow_vec_release(b);
    cow_vec_release(a);
}

static void maps(void) {
    cow_map *a = NULL, *b;
    uint64_t v = 7, out = 0;
    bool replaced = true;
    OK(cow_map_new(&a, cow_type_string(), cow_type_u64(), NULL));
    OK(cow_map_insert(&a, "seven", 5, &v, NULL, &replaced));
    CHECK(!replaced);
    b = cow_map_clone(a);
    CHECK(cow_map_remove(&b, "absent", 6, NULL) == COW_ENOTFOUND && cow_ptr_eq(a, b));
    v = 8;
    OK(cow_map_insert(&b, "seven", 5, &v, &out, &replaced));
    CHECK(replaced && out == 7);
    CHECK(u64_at(cow_map_get(a, "seven", 5)) == 7);
    CHECK(u64_at(cow_map_get(b, "seven", 5)) == 8);
    CHECK(cow_map_contains(a, "seven", 5) && !cow_map_contains(a, "eight", 5));
    CHECK(stats_of(a).copies == 1);
    cow_map_release(b);
    cow_map_release(a);
}

struct point {
    double x, y;
};
/* C99 has no _Alignof: the offset after a char gives the alignment. */
struct point_align {
    char c;
    struct point p;
};

static void boxes(void) {
    cow_type t;
    cow_box *a = NULL, *b;
    struct point p = {1.0, 2.0}, out;
    void *value;
    cow_type_init(&t, sizeof(struct point), offsetof(struct point_align, p));
    OK(cow_box_new(&a, &t, &p, NULL));
    b = cow_box_clone(a);
    value = NULL;
    OK(cow_box_make_mut(&b, &value));
    if (value) ((struct point *)value)->x = 10.0;
    CHECK(x_of(cow_box_get(a)) == 1.0);
    CHECK(x_of(cow_box_get(b)) == 10.0);
    OK(cow_box_into(&b, &out));
    CHECK(b == NULL && out.x == 10.0 && out.y == 2.0);
    cow_box_release(a);
}

int main(void) {
    cow_global_stats_info g0 = COW_GLOBAL_STATS_INFO_INIT, g1 = COW_GLOBAL_STATS_INFO_INIT;
    CHECK(cow_version() == COW_VERSION_NUMBER);
    CHECK(strcmp(cow_version_string(), COW_VERSION_STRING) == 0);
    OK(cow_global_stats(&g0));
    strings();
    buffers();
    vectors();
    maps();
    boxes();
    OK(cow_global_stats(&g1));
    CHECK(g1.live_values == g0.live_values && g1.live_allocations == g0.live_allocations);
    printf("C consumer: %d passed, %d failed\n", passed, failed);
    return failed == 0 ? 0 : 1;
}
