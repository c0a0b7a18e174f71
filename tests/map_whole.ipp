// Whole-map calls (equal, hash, diff, entry) checked against std::map models
// on random version histories, for one strategy; part of map_generic.ipp,
// so every strategy, the tiny-branching and the colliding-hash builds run
// them.

namespace {

struct change {
    cow_map_change_t kind;
    std::string key;
    std::optional<u64> old_value, new_value;
    bool operator<(const change &o) const {
        return std::tie(key, kind, old_value, new_value) < std::tie(o.key, o.kind, o.old_value, o.new_value);
    }
    bool operator==(const change &o) const {
        return kind == o.kind && key == o.key && old_value == o.old_value && new_value == o.new_value;
    }
};

struct change_log {
    std::vector<change> changes;
    std::size_t stop_after = SIZE_MAX;
};

int log_change(void *ctx, cow_map_change_t kind, const void *key, size_t key_len, const void *old_v,
               const void *new_v) {
    auto *log = static_cast<change_log *>(ctx);
    log->changes.push_back({kind, std::string(static_cast<const char *>(key), key_len), value_at(old_v),
                            value_at(new_v)});
    return log->changes.size() >= log->stop_after ? 1 : 0;
}

std::vector<change> diff_of(const cow_map *a, const cow_map *b) {
    change_log log;
    bool stopped = true;
    REQUIRE(cow_map_diff(a, b, log_change, &log, &stopped) == COW_OK);
    CHECK_FALSE(stopped);
    std::sort(log.changes.begin(), log.changes.end());
    return log.changes;
}

std::vector<change> model_changes(const std::map<std::string, u64> &a, const std::map<std::string, u64> &b) {
    std::vector<change> out;
    for (auto &[k, v] : a) {
        auto it = b.find(k);
        if (it == b.end()) out.push_back({COW_MAP_REMOVED, k, v, std::nullopt});
        else if (it->second != v) out.push_back({COW_MAP_CHANGED, k, v, it->second});
    }
    for (auto &[k, v] : b)
        if (!a.count(k)) out.push_back({COW_MAP_ADDED, k, std::nullopt, v});
    std::sort(out.begin(), out.end());
    return out;
}

}  // namespace

MAP_TEST("whole maps: equal, hash and diff agree with the models over random version histories") {
    test::leak_check leaks;
    std::mt19937_64 rng(7);
    for (const bool strings : {false, true}) {
        CAPTURE(strings);
        std::vector<cow_map *> versions;
        std::vector<std::map<std::string, u64>> models;
        cow_map *m = make_map(strings ? cow_type_string() : cow_type_u64(), cow_type_u64(), S);
        std::map<std::string, u64> model;
        for (int round = 0; round < 40; ++round) {
            // A few edits, then keep a version (clones share what they did not change).
            int edits = static_cast<int>(rng() % 60);
            for (int e = 0; e < edits; ++e) {
                u64 k = rng() % 300, v = rng() % 4;
                std::string key = strings ? numbered(k % 2 ? "a fairly long key, longer than thirty-two bytes " : "k", static_cast<long>(k)) : key_bytes(k);
                if (rng() % 4 == 0) {
                    cow_status s = cow_map_remove(&m, key.data(), key.size(), nullptr);
                    CHECK(s == (model.erase(key) ? COW_OK : COW_ENOTFOUND));
                } else {
                    REQUIRE(cow_map_insert(&m, key.data(), key.size(), &v, nullptr, nullptr) == COW_OK);
                    model[key] = v;
                }
            }
            versions.push_back(cow_map_clone(m));
            models.push_back(model);
        }
        for (std::size_t i = 0; i < versions.size(); i += 3) {
            for (std::size_t j = 0; j < versions.size(); j += 5) {
                CAPTURE(i);
                CAPTURE(j);
                bool same = models[i] == models[j];
                CHECK(cow_map_equal(versions[i], versions[j]) == same);
                if (same) CHECK(cow_map_hash(versions[i]) == cow_map_hash(versions[j]));
                CHECK(diff_of(versions[i], versions[j]) == model_changes(models[i], models[j]));
            }
            CHECK(diff_of(nullptr, versions[i]) == model_changes({}, models[i]));
            CHECK(diff_of(versions[i], nullptr) == model_changes(models[i], {}));
            CHECK(cow_map_equal(versions[i], nullptr) == models[i].empty());
        }
        // The same entries built in another order, in a map of its own, are equal.
        cow_map *rebuilt = make_map(strings ? cow_type_string() : cow_type_u64(), cow_type_u64(), S);
        for (auto it = model.rbegin(); it != model.rend(); ++it)
            REQUIRE(cow_map_insert(&rebuilt, it->first.data(), it->first.size(), &it->second, nullptr, nullptr) == COW_OK);
        CHECK(cow_map_equal(rebuilt, m));
        CHECK(cow_map_hash(rebuilt) == cow_map_hash(m));
        CHECK(diff_of(rebuilt, m).empty());
        // A flat map with the same entries: equal across representations.
        cow_map *flat = make_map(strings ? cow_type_string() : cow_type_u64(), cow_type_u64(), lazy);
        for (auto &[k, v] : model) REQUIRE(cow_map_insert(&flat, k.data(), k.size(), &v, nullptr, nullptr) == COW_OK);
        CHECK(cow_map_equal(flat, m));
        CHECK(cow_map_hash(flat) == cow_map_hash(m));
        CHECK(diff_of(flat, versions[0]) == model_changes(model, models[0]));
        cow_map_release(flat);
        cow_map_release(rebuilt);
        for (cow_map *v : versions) cow_map_release(v);
        cow_map_release(m);
    }
}

MAP_TEST("whole maps: a diff stops when the callback says so, and bad arguments are refused") {
    test::leak_check leaks;
    cow_map *a = make_u64(50, S), *b = make_u64(50, S, 1000);
    change_log log;
    log.stop_after = 3;
    bool stopped = false;
    CHECK(cow_map_diff(a, b, log_change, &log, &stopped) == COW_OK);
    CHECK(stopped);
    CHECK(log.changes.size() == 3);
    CHECK(cow_map_diff(a, b, nullptr, nullptr, &stopped) == COW_EINVAL);
    cow_map *other = make_map(cow_type_u64(), cow_type_u32(), S);
    CHECK(cow_map_diff(a, other, log_change, &log, nullptr) == COW_ETYPE);
    CHECK_FALSE(cow_map_equal(a, other));
    cow_vec *vec = nullptr;
    REQUIRE(cow_vec_new(&vec, cow_type_u64(), nullptr) == COW_OK);
    CHECK(cow_map_diff(a, reinterpret_cast<cow_map *>(vec), log_change, &log, nullptr) == COW_ETYPE);
    CHECK_FALSE(cow_map_equal(reinterpret_cast<cow_map *>(vec), nullptr));
    CHECK(cow_map_hash(reinterpret_cast<cow_map *>(vec)) == cow_map_hash(nullptr));
    CHECK(cow_map_hash(other) == cow_map_hash(nullptr));  // empty maps hash alike
    cow_vec_release(vec);
    cow_map_release(other);
    cow_map_release(a);
    cow_map_release(b);
}

MAP_TEST("entry: finds or inserts a key and hands out its value slot, copying a shared map once") {
    test::leak_check leaks;
    cow_map *m = make_u64(40, S);
    cow_map *keep = cow_map_clone(m);
    const u64 init = 7, k_new = 1000, k_old = 5;
    void *slot = nullptr;
    bool inserted = false;
    // A shared map (not after an eager clone) is copied once for the insert and the slot.
    const std::uint64_t copies_before = test::stats(m).copies;
    const bool was_shared = cow_is_shared(m);
    CHECK(was_shared == !clone_copies(S, m));
    REQUIRE(cow_map_entry(&m, &k_new, sizeof k_new, &init, &slot, &inserted) == COW_OK);
    CHECK(inserted);
    CHECK(value_at(slot) == 7u);
    *static_cast<u64 *>(slot) = 8;
    CHECK(get(m, k_new) == 8u);
    CHECK_FALSE(get(keep, k_new).has_value());
    CHECK(test::stats(m).copies == copies_before + (was_shared ? 1 : 0));
    REQUIRE(cow_map_entry(&m, &k_old, sizeof k_old, &init, &slot, &inserted) == COW_OK);
    CHECK_FALSE(inserted);
    *static_cast<u64 *>(slot) += 1;
    CHECK(get(m, k_old) == 51u);
    CHECK(get(keep, k_old) == 50u);
    CHECK(test::stats(m).copies == copies_before + (was_shared ? 1 : 0));  // m was already private
    CHECK(cow_map_entry(&m, &k_old, sizeof k_old, nullptr, &slot, nullptr) == COW_EINVAL);
    CHECK(cow_map_entry(&m, &k_old, sizeof k_old, &init, nullptr, nullptr) == COW_EINVAL);
    CHECK(cow_map_entry(&m, &k_old, 4, &init, &slot, nullptr) == COW_EINVAL);
    cow_map *s = make_map(cow_type_string(), cow_type_u64(), S);
    CHECK(cow_map_entry(&s, "\xff", 1, &init, &slot, nullptr) == COW_EUTF8);
    CHECK(cow_map_len(s) == 0);
    cow_map_release(s);
    cow_map_release(keep);
    cow_map_release(m);
}
