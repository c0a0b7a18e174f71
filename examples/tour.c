/*
 * tour.c - a walk through libcow from C.
 *
 * Each section prints what it does and checks its own claims: a number that
 * is not what the text says ends the program with a message and status 1.
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cow.h"

/* ---- checking helpers --------------------------------------------------- */

static void fail(int line, const char *what) {
    fprintf(stderr, "tour.c:%d: claim failed: %s\n", line, what);
    exit(1);
}

/* A libcow call that must succeed. */
#define MUST(call)                                                              \
    do {                                                                        \
        cow_status must_status_ = (call);                                       \
        if (must_status_ != COW_OK) {                                           \
            fprintf(stderr, "tour.c:%d: %s failed: %s\n", __LINE__, #call,     \
                    cow_strerror(must_status_));                                \
            exit(1);                                                            \
        }                                                                       \
    } while (0)

/* A claim the tour makes in its output. */
#define CLAIM(cond)                            \
    do {                                        \
        if (!(cond)) fail(__LINE__, #cond);     \
    } while (0)

static cow_stats_info stats_of(const void *handle) {
    cow_stats_info info = COW_STATS_INFO_INIT;
    MUST(cow_stats(handle, &info));
    return info;
}

/* Prints the text report of a lineage, indented; returns nothing. */
static void print_report(const char *title, const void *handle) {
    cow_str *report = NULL;
    const char *text;
    MUST(cow_stats_report(handle, COW_REPORT_TEXT, &report));
    MUST(cow_str_cstr(&report, &text));
    printf("  Statistics of %s:\n", title);
    while (*text) {
        const char *end = strchr(text, '\n');
        size_t n = end ? (size_t)(end - text) : strlen(text);
        printf("    %.*s\n", (int)n, text);
        text += n + (end ? 1 : 0);
    }
    cow_release(report);
}

/* The report's "Copy rate" line must say what the tour claims. */
static void claim_copy_rate(int line, const void *handle, const char *expected) {
    cow_str *report = NULL;
    const char *text;
    MUST(cow_stats_report(handle, COW_REPORT_TEXT, &report));
    MUST(cow_str_cstr(&report, &text));
    if (!strstr(text, expected)) fail(line, expected);
    cow_release(report);
}

static void heading(const char *title) { printf("\n=== %s ===\n", title); }

static void print_str(const char *label, const cow_str *s) {
    printf("  %-10s \"%.*s\"\n", label, (int)cow_str_len(s), cow_str_data(s));
}

static int str_is(const cow_str *s, const char *text) {
    return cow_str_len(s) == strlen(text) && memcmp(cow_str_data(s), text, strlen(text)) == 0;
}

/* ---- (a) a string cloned three times, one clone modified -------------- */

static void tour_string(void) {
    const char *text = "Hello, copy-on-write!";
    cow_str *original = NULL;
    cow_str *clones[3];
    cow_stats_info st;
    int i;

    heading("1. A string cloned three times");
    MUST(cow_str_from_cstr(&original, text, NULL));
    for (i = 0; i < 3; i++) {
        clones[i] = cow_str_clone(original);
        CLAIM(clones[i] != NULL);
    }
    printf("  3 clones made: O(1) each, no bytes copied; handles on the text: %lu\n",
           (unsigned long)cow_strong_count(original));
    CLAIM(cow_strong_count(original) == 4);

    MUST(cow_str_append(&clones[1], " (edited)", 9));
    printf("  clone 2 appended \" (edited)\": it got a private copy\n");
    print_str("original:", original);
    for (i = 0; i < 3; i++) {
        char label[16];
        sprintf(label, "clone %d:", i + 1);
        print_str(label, clones[i]);
    }
    CLAIM(str_is(original, text));
    CLAIM(str_is(clones[0], text) && str_is(clones[2], text));
    CLAIM(str_is(clones[1], "Hello, copy-on-write! (edited)"));
    CLAIM(cow_ptr_eq(original, clones[0]) && cow_ptr_eq(original, clones[2]));
    CLAIM(!cow_ptr_eq(original, clones[1]));
    printf("  original and clones 1 and 3 still share one buffer: %s\n",
           cow_ptr_eq(original, clones[0]) && cow_ptr_eq(original, clones[2]) ? "yes" : "no");

    st = stats_of(original);
    CLAIM(st.clones == 3 && st.copies == 1);
    print_report("the string (3 clones, 1 copy, 33.3%)", original);
    claim_copy_rate(__LINE__, original, "Copy rate: 33.3%");

    for (i = 0; i < 3; i++) cow_str_release(clones[i]);
    cow_str_release(original);
}

/* ---- (b) a vector shared by 10 threads ---------------------------------- */

#define VEC_THREADS 10

struct vec_job {
    int index;
    cow_vec *vec; /* the thread's own clone, made by the main thread */
    int pushed;
    int64_t sum;
    size_t len;
};

/* Sums by contiguous spans: reading never copies. */
static int64_t vec_sum(const cow_vec *vec) {
    cow_vec_cursor cursor;
    const void *data;
    size_t count, i;
    int64_t sum = 0;
    MUST(cow_vec_cursor_init(&cursor, vec));
    while (cow_vec_next_span(&cursor, &data, &count))
        for (i = 0; i < count; i++) sum += ((const int64_t *)data)[i];
    return sum;
}

static void *vec_worker(void *arg) {
    struct vec_job *job = arg;
    if (job->index % 2 == 0) {
        int64_t extra = 1000 + job->index;
        MUST(cow_vec_push(&job->vec, &extra)); /* shared: copies first */
        job->pushed = 1;
    }
    job->sum = vec_sum(job->vec);
    job->len = cow_vec_len(job->vec);
    return NULL;
}

static void tour_vector(void) {
    const int64_t numbers[10] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
    struct vec_job jobs[VEC_THREADS];
    pthread_t threads[VEC_THREADS];
    cow_vec *original = NULL;
    cow_stats_info st;
    int i;

    heading("2. A vector shared by 10 threads");
    MUST(cow_vec_from_array(&original, cow_type_i64(), numbers, 10, NULL));
    printf("  original: 1..10, sum %ld; each thread gets its own clone\n",
           (long)vec_sum(original));
    printf("  even threads push 1000 + their number (a private copy each), odd threads only read\n");
    for (i = 0; i < VEC_THREADS; i++) {
        jobs[i].index = i;
        jobs[i].vec = cow_vec_clone(original);
        jobs[i].pushed = 0;
        CLAIM(jobs[i].vec != NULL);
    }
    for (i = 0; i < VEC_THREADS; i++)
        CLAIM(pthread_create(&threads[i], NULL, vec_worker, &jobs[i]) == 0);
    for (i = 0; i < VEC_THREADS; i++) CLAIM(pthread_join(threads[i], NULL) == 0);

    for (i = 0; i < VEC_THREADS; i++) {
        int shared = cow_ptr_eq(jobs[i].vec, original);
        printf("  thread %d: %-13s %2lu elements, sum %4ld, %s\n", i,
               jobs[i].pushed ? "pushed," : "read only,", (unsigned long)jobs[i].len,
               (long)jobs[i].sum, shared ? "still shares the original" : "has its own copy");
        CLAIM(shared == !jobs[i].pushed);
        CLAIM(jobs[i].len == (jobs[i].pushed ? 11u : 10u));
        CLAIM(jobs[i].sum == 55 + (jobs[i].pushed ? 1000 + i : 0));
    }
    printf("  original after the threads: %lu elements, sum %ld (unchanged)\n",
           (unsigned long)cow_vec_len(original), (long)vec_sum(original));
    CLAIM(cow_vec_len(original) == 10 && vec_sum(original) == 55);

    st = stats_of(original);
    CLAIM(st.clones == 10 && st.copies == 5);
    print_report("the vector (10 clones, 5 copies, 50.0%)", original);
    claim_copy_rate(__LINE__, original, "Copy rate: 50.0%");

    for (i = 0; i < VEC_THREADS; i++) cow_vec_release(jobs[i].vec);
    cow_vec_release(original);
}

/* ---- (c) a configuration map shared by 100 threads ------------------------ */

#define MAP_THREADS 100

struct map_job {
    cow_map *config; /* the thread's own clone */
    uint64_t workers;
};

static uint64_t config_get(const cow_map *config, const char *key) {
    const void *value = cow_map_get(config, key, strlen(key));
    uint64_t out;
    if (!value) {
        fprintf(stderr, "tour.c: key \"%s\" missing\n", key);
        exit(1);
    }
    memcpy(&out, value, sizeof out);
    return out;
}

static void config_set(cow_map **config, const char *key, uint64_t value) {
    MUST(cow_map_insert(config, key, strlen(key), &value, NULL, NULL));
}

static void *map_worker(void *arg) {
    struct map_job *job = arg;
    job->workers = config_get(job->config, "workers");
    return NULL;
}

static void *map_worker_reload(void *arg) {
    struct map_job *job = arg;
    job->workers = config_get(job->config, "setting.42");
    return NULL;
}

static void tour_config(void) {
    static struct map_job jobs[MAP_THREADS];
    static pthread_t threads[MAP_THREADS];
    const char *keys[3] = {"workers", "timeout", "max_connections"};
    cow_map *config = NULL;
    cow_stats_info st;
    int i, all_four = 1;

    heading("3. A configuration map shared by 100 threads");
    MUST(cow_map_new(&config, cow_type_string(), cow_type_u64(), NULL));
    config_set(&config, "workers", 4);
    config_set(&config, "timeout", 30);
    config_set(&config, "max_connections", 1000);
    for (i = 0; i < 3; i++)
        printf("  %-16s = %lu\n", keys[i], (unsigned long)config_get(config, keys[i]));

    for (i = 0; i < MAP_THREADS; i++) {
        jobs[i].config = cow_map_clone(config);
        jobs[i].workers = 0;
        CLAIM(jobs[i].config != NULL);
    }
    for (i = 0; i < MAP_THREADS; i++)
        CLAIM(pthread_create(&threads[i], NULL, map_worker, &jobs[i]) == 0);
    for (i = 0; i < MAP_THREADS; i++) CLAIM(pthread_join(threads[i], NULL) == 0);
    for (i = 0; i < MAP_THREADS; i++) {
        all_four = all_four && jobs[i].workers == 4;
        CLAIM(cow_ptr_eq(jobs[i].config, config));
    }
    printf("  100 threads read \"workers\": %s; none of them copied the map\n",
           all_four ? "all saw 4" : "NOT all saw 4");
    CLAIM(all_four);

    st = stats_of(config);
    CLAIM(st.clones == 100 && st.copies == 0 && st.live_values == 1);
    print_report("the configuration (100 clones, 0 copies)", config);
    claim_copy_rate(__LINE__, config, "Copy rate: 0.0%");

    for (i = 0; i < MAP_THREADS; i++) cow_map_release(jobs[i].config);
    cow_map_release(config);
}

/* ---- (d) a nested edit: map of string -> vector of strings ---------------- */

static cow_vec *vec_at(const cow_map *map, const char *key) {
    const void *value = cow_map_get(map, key, strlen(key));
    cow_vec *vec;
    if (!value) {
        fprintf(stderr, "tour.c: key \"%s\" missing\n", key);
        exit(1);
    }
    memcpy(&vec, value, sizeof vec);
    return vec; /* borrowed from the map */
}

static cow_str *str_at(const cow_vec *vec, size_t index) {
    const void *elem = cow_vec_get(vec, index);
    cow_str *s;
    CLAIM(elem != NULL);
    memcpy(&s, elem, sizeof s);
    return s; /* borrowed from the vector */
}

/* A vector of string handles; the vector holds the only references. */
static cow_vec *string_vector(const char *const *words, size_t count) {
    cow_vec *vec = NULL;
    size_t i;
    MUST(cow_vec_new(&vec, cow_type_handle(), NULL));
    for (i = 0; i < count; i++) {
        cow_str *s = NULL;
        MUST(cow_str_from_cstr(&s, words[i], NULL));
        MUST(cow_vec_push(&vec, &s)); /* the vector clones the handle... */
        cow_str_release(s);           /* ...so ours goes */
    }
    return vec;
}

static void print_words(const char *key, const cow_vec *vec) {
    size_t i;
    printf("    %-8s [", key);
    for (i = 0; i < cow_vec_len(vec); i++) {
        const cow_str *s = str_at(vec, i);
        printf("%s%.*s", i ? ", " : "", (int)cow_str_len(s), cow_str_data(s));
    }
    printf("]\n");
}

static uint64_t live_values(void) {
    cow_global_stats_info g = COW_GLOBAL_STATS_INFO_INIT;
    MUST(cow_global_stats(&g));
    return g.live_values;
}

static void tour_nested(void) {
    static const char *const fruits[] = {"apple", "banana"};
    static const char *const colors[] = {"red", "green", "blue"};
    static const char *const animals[] = {"cat", "dog"};
    const char *keys[3] = {"animals", "colors", "fruits"};
    cow_map *v1 = NULL, *v2;
    cow_vec *vec;
    cow_str *cherry = NULL;
    void *slot;
    uint64_t before;
    cow_stats_info st;
    int i;

    heading("4. A nested edit: map of string -> vector of strings");
    MUST(cow_map_new(&v1, cow_type_string(), cow_type_handle(), NULL));
    vec = string_vector(fruits, 2);
    MUST(cow_map_insert(&v1, "fruits", 6, &vec, NULL, NULL));
    cow_vec_release(vec);
    vec = string_vector(colors, 3);
    MUST(cow_map_insert(&v1, "colors", 6, &vec, NULL, NULL));
    cow_vec_release(vec);
    vec = string_vector(animals, 2);
    MUST(cow_map_insert(&v1, "animals", 7, &vec, NULL, NULL));
    cow_vec_release(vec);

    v2 = cow_map_clone(v1); /* version 2 starts as the same map */
    CLAIM(v2 != NULL);
    MUST(cow_str_from_cstr(&cherry, "cherry", NULL));
    before = live_values();
    /* Version 2 gets "cherry" in "fruits": get_mut makes the map unique and
     * gives the slot of the vector, the push makes that vector unique. */
    MUST(cow_map_get_mut(&v2, "fruits", 6, &slot));
    MUST(cow_vec_push((cow_vec **)slot, &cherry));
    cow_str_release(cherry);
    printf("  version 2 = version 1 + \"cherry\" in fruits (cow_map_get_mut + cow_vec_push)\n");
    printf("  new values made by the edit: %lu (one map copy, one vector copy)\n",
           (unsigned long)(live_values() - before));
    CLAIM(live_values() - before == 2);

    printf("  version 1 (kept):\n");
    for (i = 0; i < 3; i++) print_words(keys[i], vec_at(v1, keys[i]));
    printf("  version 2:\n");
    for (i = 0; i < 3; i++) print_words(keys[i], vec_at(v2, keys[i]));
    CLAIM(cow_vec_len(vec_at(v1, "fruits")) == 2 && cow_vec_len(vec_at(v2, "fruits")) == 3);

    printf("  vectors shared between the versions (cow_ptr_eq):\n");
    for (i = 0; i < 3; i++) {
        int shared = cow_ptr_eq(vec_at(v1, keys[i]), vec_at(v2, keys[i]));
        st = stats_of(vec_at(v2, keys[i]));
        printf("    %-8s %-3s (copies in its lineage: %lu)\n", keys[i], shared ? "yes" : "no",
               (unsigned long)st.copies);
        CLAIM(shared == (strcmp(keys[i], "fruits") != 0));
        CLAIM(st.copies == (shared ? 0u : 1u));
    }
    printf("  the strings \"apple\" and \"banana\" are shared by both fruit vectors: %s\n",
           cow_ptr_eq(str_at(vec_at(v1, "fruits"), 0), str_at(vec_at(v2, "fruits"), 0)) &&
                   cow_ptr_eq(str_at(vec_at(v1, "fruits"), 1), str_at(vec_at(v2, "fruits"), 1))
               ? "yes"
               : "no");
    CLAIM(cow_strong_count(str_at(vec_at(v1, "fruits"), 0)) == 2);
    CLAIM(cow_ptr_eq(str_at(vec_at(v1, "fruits"), 1), str_at(vec_at(v2, "fruits"), 1)));

    st = stats_of(v1);
    CLAIM(st.clones == 1 && st.copies == 1);
    print_report("the map (1 clone, 1 copy)", v1);

    cow_map_release(v2);
    cow_map_release(v1);
}

/* ---- versions: a persistent vector keeps 1,000 versions for little more than one */

static double seconds_now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static uint64_t live_bytes(void) {
    cow_global_stats_info g = COW_GLOBAL_STATS_INFO_INIT;
    MUST(cow_global_stats(&g));
    return g.live_bytes;
}

#define VERSIONS 1000
#define ELEMENTS 1000000

/* The time of one write to a shared vector of ELEMENTS u64 under a strategy
 * (printed, never checked: times vary from run to run). */
static double one_shared_write(cow_strategy_t strategy, const uint64_t *values) {
    cow_options o = COW_OPTIONS_INIT;
    cow_vec *v = NULL, *w;
    uint64_t x = 7;
    double start;
    o.strategy = strategy;
    MUST(cow_vec_from_array(&v, cow_type_u64(), values, ELEMENTS, &o));
    w = cow_vec_clone(v);
    start = seconds_now();
    MUST(cow_vec_set(&w, ELEMENTS / 2, &x, NULL));
    start = seconds_now() - start;
    CLAIM(*(const uint64_t *)cow_vec_get(v, ELEMENTS / 2) == ELEMENTS / 2);
    cow_vec_release(w);
    cow_vec_release(v);
    return start;
}

static int count_range(void *ctx, size_t offset, size_t count) {
    (void)offset;
    *(size_t *)ctx += count;
    return 0;
}

/* Diff, slice and concat between versions: the tree walks and shares what
 * they have in common instead of copying it. */
static void tour_version_calls(const cow_vec *first, const cow_vec *last) {
    cow_vec *front = NULL, *back = NULL;
    size_t changed = 0;
    bool stopped = true;
    uint64_t before;

    MUST(cow_vec_diff(first, last, count_range, &changed, &stopped));
    printf("  cow_vec_diff(version 0, version 999): %lu positions differ\n", (unsigned long)changed);
    CLAIM(changed == VERSIONS - 1 && !stopped);
    CLAIM(!cow_vec_equal(first, last));

    /* The two halves of the last version swapped: slices and a join that
     * share the leaves of the version instead of copying 8 MB. */
    before = live_bytes();
    MUST(cow_vec_slice(&front, last, 0, ELEMENTS / 2 + 3));
    MUST(cow_vec_slice(&back, last, ELEMENTS / 2 + 3, ELEMENTS - (ELEMENTS / 2 + 3)));
    MUST(cow_vec_concat(&back, front));
    printf("  halves swapped by two slices and a concat: %lu elements, %.1f KB more held\n",
           (unsigned long)cow_vec_len(back), (double)(live_bytes() - before) / 1e3);
    CLAIM(cow_vec_len(back) == ELEMENTS);
    CLAIM(live_bytes() - before < 64u * 1024);
    CLAIM(*(const uint64_t *)cow_vec_get(back, ELEMENTS - (ELEMENTS / 2 + 3)) ==
          *(const uint64_t *)cow_vec_get(last, 0));
    CLAIM(*(const uint64_t *)cow_vec_get(back, 0) ==
          *(const uint64_t *)cow_vec_get(last, ELEMENTS / 2 + 3));
    cow_vec_release(front);
    cow_vec_release(back);
}

static void tour_versions(void) {
    static cow_vec *versions[VERSIONS];
    uint64_t *values = malloc(ELEMENTS * sizeof *values);
    cow_options o = COW_OPTIONS_INIT;
    uint64_t before, held, flat_figure, i;
    cow_stats_info st;
    double tree_write, flat_write;

    heading("Versions: 1,000 versions of a 1,000,000-element vector (COW_STRATEGY_STRUCTURAL)");
    CLAIM(values != NULL);
    for (i = 0; i < ELEMENTS; i++) values[i] = i;
    o.strategy = COW_STRATEGY_STRUCTURAL;
    before = live_bytes();
    MUST(cow_vec_from_array(&versions[0], cow_type_u64(), values, ELEMENTS, &o));
    for (i = 1; i < VERSIONS; i++) {
        uint64_t x = ELEMENTS + i;
        versions[i] = cow_vec_clone(versions[i - 1]);
        CLAIM(versions[i] != NULL);
        MUST(cow_vec_set(&versions[i], (i * 7919) % ELEMENTS, &x, NULL));
    }
    held = live_bytes() - before;
    /* Computed, not allocated: each flat version would hold its own copy. */
    flat_figure = (uint64_t)VERSIONS * ELEMENTS * sizeof(uint64_t);
    printf("  each version = the previous one with one element set (cow_vec_clone + cow_vec_set)\n");
    printf("  bytes the 1,000 tree versions hold:  %10.1f MB\n", (double)held / 1e6);
    printf("  the same versions as flat copies:    %10.1f MB (computed, not allocated)\n",
           (double)flat_figure / 1e6);
    CLAIM(held < (uint64_t)ELEMENTS * sizeof(uint64_t) * 115 / 100 + 4u * 1024 * 1024);
    for (i = 1; i < VERSIONS; i++) {
        uint64_t at = (i * 7919) % ELEMENTS;
        CLAIM(*(const uint64_t *)cow_vec_get(versions[i], at) == ELEMENTS + i);
        CLAIM(*(const uint64_t *)cow_vec_get(versions[i - 1], at) == at ||
              (i > 1 && *(const uint64_t *)cow_vec_get(versions[i - 1], at) >= ELEMENTS));
    }
    CLAIM(*(const uint64_t *)cow_vec_get(versions[0], 7919) == 7919);
    st = stats_of(versions[VERSIONS - 1]);
    printf("  nodes copied by the 999 writes: %lu (a path each), copies: %lu\n",
           (unsigned long)st.nodes_copied, (unsigned long)st.copies);
    CLAIM(st.representation == COW_REPRESENTATION_TREE);
    CLAIM(st.copies == VERSIONS - 1);
    tour_version_calls(versions[0], versions[VERSIONS - 1]);
    for (i = 0; i < VERSIONS; i++) cow_vec_release(versions[i]);

    tree_write = one_shared_write(COW_STRATEGY_STRUCTURAL, values);
    flat_write = one_shared_write(COW_STRATEGY_LAZY, values);
    printf("  one write to a shared 1,000,000-element vector: tree %.1f us, flat %.1f us\n",
           tree_write * 1e6, flat_write * 1e6);
    free(values);
}

/* ---- reloading a large configuration (COW_STRATEGY_STRUCTURAL maps) ------ */

#define RELOAD_KEYS 100000

struct reload_log {
    int added, removed, changed;
    char changed_keys[3][32];
};

static int on_reload_change(void *ctx, cow_map_change_t kind, const void *key, size_t key_len,
                            const void *old_value, const void *new_value) {
    struct reload_log *log = ctx;
    (void)old_value;
    (void)new_value;
    if (kind == COW_MAP_ADDED) log->added++;
    if (kind == COW_MAP_REMOVED) log->removed++;
    if (kind == COW_MAP_CHANGED) {
        if (log->changed < 3) snprintf(log->changed_keys[log->changed], 32, "%.*s", (int)key_len, (const char *)key);
        log->changed++;
    }
    return 0;
}

/* A 100,000-key configuration under a strategy: setting.0 .. setting.99999. */
static cow_map *large_config(cow_strategy_t strategy) {
    cow_options o = COW_OPTIONS_INIT;
    cow_map *config = NULL;
    char key[32];
    uint64_t i;
    o.strategy = strategy;
    MUST(cow_map_new(&config, cow_type_string(), cow_type_u64(), &o));
    for (i = 0; i < RELOAD_KEYS; i++) {
        snprintf(key, sizeof key, "setting.%lu", (unsigned long)i);
        config_set(&config, key, i);
    }
    return config;
}

/* Bytes copied and seconds taken by one insert into a shared copy of config. */
static uint64_t one_shared_insert(cow_map *config, double *seconds) {
    uint64_t before = stats_of(config).bytes_copied, copied;
    cow_map *w = cow_map_clone(config);
    double start;
    CLAIM(w != NULL);
    start = seconds_now();
    config_set(&w, "setting.new", 1);
    *seconds = seconds_now() - start;
    copied = stats_of(w).bytes_copied - before;
    cow_map_release(w);
    return copied;
}

static void tour_reload(void) {
    static struct map_job jobs[MAP_THREADS];
    static pthread_t threads[MAP_THREADS];
    cow_map *config = large_config(COW_STRATEGY_STRUCTURAL), *flat = large_config(COW_STRATEGY_LAZY);
    cow_map *reloaded;
    struct reload_log log = {0, 0, 0, {{0}}};
    uint64_t tree_bytes, flat_bytes;
    double tree_time, flat_time;
    bool stopped = true;
    int i;

    heading("Reloading a 100,000-key configuration (COW_STRATEGY_STRUCTURAL map)");
    for (i = 0; i < MAP_THREADS; i++) {
        jobs[i].config = cow_map_clone(config);
        CLAIM(jobs[i].config != NULL);
    }
    for (i = 0; i < MAP_THREADS; i++)
        CLAIM(pthread_create(&threads[i], NULL, map_worker_reload, &jobs[i]) == 0);
    for (i = 0; i < MAP_THREADS; i++) CLAIM(pthread_join(threads[i], NULL) == 0);
    for (i = 0; i < MAP_THREADS; i++) CLAIM(jobs[i].workers == 42);
    printf("  100 threads share one version and read setting.42 = 42\n");

    /* The reload: a new version with 3 values changed; the readers keep theirs. */
    reloaded = cow_map_clone(config);
    CLAIM(reloaded != NULL);
    config_set(&reloaded, "setting.7", 70);
    config_set(&reloaded, "setting.500", 5000);
    config_set(&reloaded, "setting.99999", 1);
    MUST(cow_map_diff(config, reloaded, on_reload_change, &log, &stopped));
    printf("  reload: 3 values set; the diff reports %d changed (%s, %s, %s), %d added, %d removed\n",
           log.changed, log.changed_keys[0], log.changed_keys[1], log.changed_keys[2], log.added,
           log.removed);
    CLAIM(log.changed == 3 && log.added == 0 && log.removed == 0 && !stopped);
    CLAIM(config_get(jobs[0].config, "setting.7") == 7 && config_get(reloaded, "setting.7") == 70);
    CLAIM(!cow_map_equal(config, reloaded));

    tree_bytes = one_shared_insert(config, &tree_time);
    flat_bytes = one_shared_insert(flat, &flat_time);
    printf("  one insert into a shared copy: tree %lu bytes copied (%.1f us), flat %lu bytes (%.1f us)\n",
           (unsigned long)tree_bytes, tree_time * 1e6, (unsigned long)flat_bytes, flat_time * 1e6);
    CLAIM(flat_bytes == stats_of(flat).value_bytes);
    CLAIM(tree_bytes * 100 < flat_bytes);
    CLAIM(stats_of(config).representation == COW_REPRESENTATION_TREE);

    for (i = 0; i < MAP_THREADS; i++) cow_map_release(jobs[i].config);
    cow_map_release(reloaded);
    cow_map_release(flat);
    cow_map_release(config);
}

/* ---- ADAPTIVE: flat or tree, chosen from what the lineage does ------------ */

/* The three ADAPTIVE workloads, light: each on a vector of u64 and on a map
 * u64 -> u64, under LAZY, STRUCTURAL and ADAPTIVE. The table prints the
 * representation each value ends in, the bytes its lineage copied, its
 * switches and the time (printed, never checked); the claims are about the
 * representation ADAPTIVE chose. */

#define ADAPT_N 100000 /* workloads 1 and 3: 800 KB of u64, above the 64 KiB floor */
#define ADAPT_READERS 2
#define ADAPT_BATCH 1000             /* reads per reader clone */
#define ADAPT_BATCHES_PER_VERSION 10 /* a new version every 10,000 reads */
#define ADAPT_BATCHES 200            /* 200,000 reads, 20 versions */
#define ADAPT_SMALL_N 100
#define ADAPT_SMALL_ROUNDS 10000
#define ADAPT_LARGE_ROUNDS 300
#define ADAPT_LAZY_ROUNDS 5 /* LAZY's large workload: rounds measured, the rest computed */

/* splitmix64: a fixed sequence, the same in every run. */
static uint64_t adapt_random(uint64_t *state) {
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* A vector (element i is i) or a map (key i -> i), behind one interface. */
struct adapt_kind {
    const char *name;
    void *(*make)(cow_strategy_t strategy, size_t n);
    uint64_t (*get)(const void *value, uint64_t i);
    void (*set)(void **slot, uint64_t i, uint64_t x);
};

static void *adapt_vec_make(cow_strategy_t strategy, size_t n) {
    cow_options o = COW_OPTIONS_INIT;
    cow_vec *v = NULL;
    uint64_t *values = malloc(n * sizeof *values);
    size_t i;
    CLAIM(values != NULL);
    for (i = 0; i < n; i++) values[i] = i;
    o.strategy = strategy;
    MUST(cow_vec_from_array(&v, cow_type_u64(), values, n, &o));
    free(values);
    return v;
}

static uint64_t adapt_vec_get(const void *value, uint64_t i) {
    return *(const uint64_t *)cow_vec_get(value, i);
}

static void adapt_vec_set(void **slot, uint64_t i, uint64_t x) {
    cow_vec *v = *slot;
    MUST(cow_vec_set(&v, i, &x, NULL));
    *slot = v;
}

static void *adapt_map_make(cow_strategy_t strategy, size_t n) {
    cow_options o = COW_OPTIONS_INIT;
    cow_map *m = NULL;
    uint64_t i;
    o.strategy = strategy;
    MUST(cow_map_new(&m, cow_type_u64(), cow_type_u64(), &o));
    for (i = 0; i < n; i++) MUST(cow_map_insert(&m, &i, sizeof i, &i, NULL, NULL));
    return m;
}

static uint64_t adapt_map_get(const void *value, uint64_t key) {
    return *(const uint64_t *)cow_map_get(value, &key, sizeof key);
}

static void adapt_map_set(void **slot, uint64_t key, uint64_t x) {
    cow_map *m = *slot;
    MUST(cow_map_insert(&m, &key, sizeof key, &x, NULL, NULL));
    *slot = m;
}

static const struct adapt_kind adapt_kinds[2] = {
    {"vector", adapt_vec_make, adapt_vec_get, adapt_vec_set},
    {"map", adapt_map_make, adapt_map_get, adapt_map_set},
};

struct adapt_result {
    uint32_t representation;
    uint64_t clones, copies, bytes_copied, switches;
    double seconds;
    int computed; /* figures computed from ADAPT_LAZY_ROUNDS measured rounds */
};

static struct adapt_result adapt_result_of(const void *value, double seconds) {
    cow_stats_info st = stats_of(value);
    struct adapt_result r;
    r.representation = st.representation;
    r.clones = st.clones;
    r.copies = st.copies;
    r.bytes_copied = st.bytes_copied;
    r.switches = st.switches;
    r.seconds = seconds;
    r.computed = 0;
    return r;
}

/* 1. Read-heavy: reader threads clone the current version once per batch
 * of ADAPT_BATCH random reads; the writer makes version v + 1 (clone, one
 * write, publish in place of the current, release the old) once the
 * batches of version v are done. A reader waits for the version its batch
 * belongs to, so each version is cloned ADAPT_BATCHES_PER_VERSION times by
 * the readers (and once by the writer) in every run. */
struct read_heavy {
    const struct adapt_kind *kind;
    pthread_mutex_t mu; /* guards everything below */
    pthread_cond_t readers_cv, writer_cv;
    void *current;
    unsigned claimed, done, published;
    uint64_t sum;
};

static void *read_heavy_reader(void *arg) {
    struct read_heavy *run = arg;
    uint64_t state = 0, sum = 0;
    unsigned batch, k;
    void *h;
    for (;;) {
        CLAIM(pthread_mutex_lock(&run->mu) == 0);
        batch = run->claimed++;
        if (batch >= ADAPT_BATCHES) {
            run->sum += sum;
            CLAIM(pthread_mutex_unlock(&run->mu) == 0);
            return NULL;
        }
        while (run->published < batch / ADAPT_BATCHES_PER_VERSION)
            CLAIM(pthread_cond_wait(&run->readers_cv, &run->mu) == 0);
        h = cow_clone(run->current);
        CLAIM(pthread_mutex_unlock(&run->mu) == 0);
        CLAIM(h != NULL);
        state = batch;
        for (k = 0; k < ADAPT_BATCH; k++) sum += run->kind->get(h, adapt_random(&state) % ADAPT_N);
        cow_release(h);
        CLAIM(pthread_mutex_lock(&run->mu) == 0);
        if (++run->done % ADAPT_BATCHES_PER_VERSION == 0)
            CLAIM(pthread_cond_signal(&run->writer_cv) == 0);
        CLAIM(pthread_mutex_unlock(&run->mu) == 0);
    }
}

static void *read_heavy_writer(void *arg) {
    struct read_heavy *run = arg;
    uint64_t state = 42;
    unsigned v;
    void *c, *old;
    for (v = 1; v <= ADAPT_BATCHES / ADAPT_BATCHES_PER_VERSION; v++) {
        CLAIM(pthread_mutex_lock(&run->mu) == 0);
        while (run->done < v * ADAPT_BATCHES_PER_VERSION)
            CLAIM(pthread_cond_wait(&run->writer_cv, &run->mu) == 0);
        CLAIM(pthread_mutex_unlock(&run->mu) == 0);
        c = cow_clone(run->current); /* only this thread replaces current */
        CLAIM(c != NULL);
        run->kind->set(&c, adapt_random(&state) % ADAPT_N, v);
        CLAIM(pthread_mutex_lock(&run->mu) == 0);
        old = run->current;
        run->current = c;
        run->published = v;
        CLAIM(pthread_cond_broadcast(&run->readers_cv) == 0);
        CLAIM(pthread_mutex_unlock(&run->mu) == 0);
        cow_release(old);
    }
    return NULL;
}

static struct adapt_result adapt_read_heavy(const struct adapt_kind *kind,
                                            cow_strategy_t strategy) {
    struct read_heavy run;
    pthread_t threads[ADAPT_READERS + 1];
    struct adapt_result r;
    double start;
    int i;
    run.kind = kind;
    CLAIM(pthread_mutex_init(&run.mu, NULL) == 0);
    CLAIM(pthread_cond_init(&run.readers_cv, NULL) == 0);
    CLAIM(pthread_cond_init(&run.writer_cv, NULL) == 0);
    run.current = kind->make(strategy, ADAPT_N);
    run.claimed = run.done = run.published = 0;
    run.sum = 0;
    start = seconds_now();
    for (i = 0; i < ADAPT_READERS; i++)
        CLAIM(pthread_create(&threads[i], NULL, read_heavy_reader, &run) == 0);
    CLAIM(pthread_create(&threads[ADAPT_READERS], NULL, read_heavy_writer, &run) == 0);
    for (i = 0; i <= ADAPT_READERS; i++) CLAIM(pthread_join(threads[i], NULL) == 0);
    r = adapt_result_of(run.current, seconds_now() - start);
    cow_release(run.current);
    pthread_cond_destroy(&run.writer_cv);
    pthread_cond_destroy(&run.readers_cv);
    pthread_mutex_destroy(&run.mu);
    return r;
}

/* 2 and 3: a value of n elements, then `rounds` versions, each one write
 * away from the previous one (clone, one write, release the old), timed
 * from the value's creation. LAZY's large workload runs ADAPT_LAZY_ROUNDS
 * rounds: each copies the whole value, so its bytes and time for
 * `rounds` rounds are computed from them (never allocated). */
static struct adapt_result adapt_versions(const struct adapt_kind *kind, cow_strategy_t strategy,
                                          size_t n, unsigned rounds, int computed) {
    unsigned measured = computed ? ADAPT_LAZY_ROUNDS : rounds, i;
    uint64_t state = 7;
    double start = seconds_now(), made;
    void *cur = kind->make(strategy, n), *c;
    struct adapt_result r;
    cow_stats_info st;
    made = seconds_now();
    for (i = 0; i < measured; i++) {
        c = cow_clone(cur);
        CLAIM(c != NULL);
        kind->set(&c, adapt_random(&state) % n, i);
        cow_release(cur);
        cur = c;
    }
    r = adapt_result_of(cur, seconds_now() - start);
    if (computed) {
        st = stats_of(cur);
        /* Every measured round copied the whole value (a vector leaves out
         * the element the write replaces): the figures for `rounds` rounds
         * follow from that. */
        CLAIM(st.copies == measured && st.bytes_copied <= (uint64_t)measured * st.value_bytes &&
              st.bytes_copied * 100 >= (uint64_t)measured * st.value_bytes * 99);
        r.bytes_copied = (uint64_t)rounds * st.value_bytes;
        r.seconds = (made - start) + (r.seconds - (made - start)) * rounds / measured;
        r.computed = 1;
    }
    cow_release(cur);
    return r;
}

static const char *representation_name(uint32_t representation) {
    return representation == COW_REPRESENTATION_TREE ? "tree" : "flat";
}

static void print_bytes(uint64_t bytes, char *out, size_t size) {
    if (bytes >= 1000000)
        snprintf(out, size, "%.1f MB", (double)bytes / 1e6);
    else
        snprintf(out, size, "%.1f KB", (double)bytes / 1e3);
}

static void tour_adaptive(void) {
    static const char *const workloads[3] = {"1. read-heavy", "2. small", "3. large"};
    static const cow_strategy_t strategies[3] = {COW_STRATEGY_LAZY, COW_STRATEGY_STRUCTURAL,
                                                 COW_STRATEGY_ADAPTIVE};
    static const char *const strategy_names[3] = {"LAZY", "STRUCTURAL", "ADAPTIVE"};
    struct adapt_result r[3][2][3]; /* workload, kind, strategy */
    char bytes[32], label[48];
    int w, k, s;

    heading("ADAPTIVE: flat or tree, chosen per lineage at the copies writes make");
    printf("  each workload on a vector of u64 and a map u64 -> u64, under three strategies:\n");
    printf("  1. read-heavy: 100,000 elements, %d reader threads (a clone per 1,000 random reads),\n"
           "     a writer makes a version every 10,000 reads (200,000 reads, 20 versions)\n",
           ADAPT_READERS);
    printf("  2. small: 100 elements, 10,000 versions one write apart\n");
    printf("  3. large: 100,000 elements, 300 versions one write apart, timed from creation\n");
    for (k = 0; k < 2; k++)
        for (s = 0; s < 3; s++) {
            r[0][k][s] = adapt_read_heavy(&adapt_kinds[k], strategies[s]);
            r[1][k][s] = adapt_versions(&adapt_kinds[k], strategies[s], ADAPT_SMALL_N,
                                        ADAPT_SMALL_ROUNDS, 0);
            r[2][k][s] = adapt_versions(&adapt_kinds[k], strategies[s], ADAPT_N, ADAPT_LARGE_ROUNDS,
                                        strategies[s] == COW_STRATEGY_LAZY);
        }
    printf("  %-22s %-11s %-5s %13s %9s %11s\n", "workload", "strategy", "ends", "bytes copied",
           "switches", "time");
    for (w = 0; w < 3; w++)
        for (k = 0; k < 2; k++)
            for (s = 0; s < 3; s++) {
                const struct adapt_result *x = &r[w][k][s];
                snprintf(label, sizeof label, "%s, %s", workloads[w], adapt_kinds[k].name);
                print_bytes(x->bytes_copied, bytes, sizeof bytes);
                printf("  %-22s %-11s %-5s %13s %9lu %8.1f ms%s\n", s == 0 ? label : "",
                       strategy_names[s], representation_name(x->representation), bytes,
                       (unsigned long)x->switches, x->seconds * 1e3, x->computed ? " *" : "");
            }
    printf("  * computed from %d measured rounds (each copies the whole value): 300 x the value's\n"
           "    bytes, and the creation plus 300 x the time of a round (the other copies are\n"
           "    never made)\n",
           ADAPT_LAZY_ROUNDS);
    printf("  ADAPTIVE: read-heavy stays flat (1 copy per 11 clones: copying 0.8 to 1.6 MB costs\n"
           "  less than the tree's slower reads after 11 clones; bench_adaptive's million-element\n"
           "  version becomes a tree), small stays flat (below the 64 KiB floor), large becomes a\n"
           "  tree at its second copy (1 switch)\n");

    for (k = 0; k < 2; k++) {
        CLAIM(r[0][k][2].representation == COW_REPRESENTATION_FLAT && r[0][k][2].switches == 0);
        CLAIM(r[0][k][2].copies == ADAPT_BATCHES / ADAPT_BATCHES_PER_VERSION &&
              r[0][k][2].clones == r[0][k][2].copies * (ADAPT_BATCHES_PER_VERSION + 1));
        CLAIM(r[1][k][2].representation == COW_REPRESENTATION_FLAT && r[1][k][2].switches == 0);
        CLAIM(r[2][k][2].representation == COW_REPRESENTATION_TREE && r[2][k][2].switches == 1);
        for (w = 0; w < 3; w++) {
            CLAIM(r[w][k][0].representation == COW_REPRESENTATION_FLAT);
            CLAIM(r[w][k][1].representation == COW_REPRESENTATION_TREE);
        }
    }
}

/* ---- the end: everything released ---------------------------------------- */

int main(void) {
    cow_global_stats_info g = COW_GLOBAL_STATS_INFO_INIT;

    printf("libcow %s tour\n", cow_version_string());
    tour_string();
    tour_vector();
    tour_config();
    tour_nested();
    tour_versions();
    tour_reload();
    tour_adaptive();

    heading("Done");
    MUST(cow_global_stats(&g));
    printf("  live values: %lu, live allocations: %lu\n", (unsigned long)g.live_values,
           (unsigned long)g.live_allocations);
    CLAIM(g.live_values == 0);
    CLAIM(g.live_allocations == 0);
    printf("  every claim above was checked\n");
    return 0;
}
