// The operations every fuzz target shares, whatever the kind of its values:
// choosing slots (valid and defective), clone, release, the generic
// cow_make_mut, statistics and reports, queries on invalid handles, and
// arming an allocation or callback failure for the next operation. Each
// operation predicts its outcome with the model, makes the call, checks the
// status and out-parameters and, on failure, that nothing changed. The
// caller runs world::check() after every operation.
#pragma once
#include <cinttypes>
#include <string>

#include "world.hpp"

namespace fuzz {

// Snapshot taken before a call: what a failed call must leave as it was.
struct before_call {
    cow_global_stats_info global = global_stats();
    long calls = allocator.calls;
    void unchanged() const { FUZZ_CHECK(same_global(global, global_stats())); }
};
#define FUZZ_JUDGE(what, e, st, bc) ::fuzz::judge(__FILE__, __LINE__, what, e, st, (bc).calls)

// An address no call may write to on failure (out-parameters).
template <class T>
T *sentinel() {
    static unsigned char storage[64];
    return reinterpret_cast<T *>(storage);
}

// The typed entry points of the kind a target fuzzes.
struct kind_api {
    cow_kind_t kind;
    void *(*clone)(const void *);
    void (*release)(void *);
    void (*release_wrong_kind)(void *);  // another kind's release: must ignore it
};

class pool_fuzzer {
public:
    provider &in;
    world w;
    kind_api api;
    void *fake = fake_handle();

    pool_fuzzer(provider &input, kind_api a, void *foreign_handle, rep_model foreign_model)
        : in(input), api(a) {
        options_draw defaults;
        defaults.pass_null = true;
        w.created(foreign_handle, std::move(foreign_model), defaults);
        w.pinned[0] = foreign_handle;
    }
    // A valid handle of another kind: the wrong type for every typed call.
    void *foreign() const { return w.pinned[0]; }

    int draw_slot() { return in.ConsumeIntegralInRange<int>(0, world::slots - 1); }

    // The operation an input value selects. Op names its operations in the
    // order of their input values and ends with count; an operation named
    // twice or three times (x, x_2, x_3) is drawn that much more often.
    // Every file in fuzz/corpus and fuzz/regressions was recorded with these
    // values and this count: changing either changes what those files replay.
    template <class Op>
    Op draw_op() {
        return static_cast<Op>(in.ConsumeIntegralInRange<int>(0, static_cast<int>(Op::count) - 1));
    }

    // Stores h in slot j, releasing what the slot held.
    void put(int j, void *h) {
        w.drop(w.slot[j]);
        w.slot[j] = h;
    }

    // The slot a mutating call is given: a pool slot (possibly empty), or a
    // NULL slot pointer, a wrong-kind handle, a fake pointer.
    struct target {
        void **where = nullptr;  // what is passed (as cow_x **)
        int index = -1;          // pool slot, or -1
        expectation defects;
        bool valid() const { return defects.ok(); }
        template <class H>
        H **slot() const {
            return reinterpret_cast<H **>(where);
        }
        void *handle() const { return where ? *where : nullptr; }
    };
    target draw_target(bool allow_foreign = true) {
        target t;
        int k = in.ConsumeIntegralInRange<int>(0, world::slots + 3);
        if (k == world::slots) {
            t.defects.add(true, COW_EINVAL);
        } else if (k == world::slots + 1 && allow_foreign) {
            t.where = &w.pinned[0];
            t.defects.add(true, COW_ETYPE);
        } else if (k == world::slots + 2) {
            t.where = &fake;
            t.defects.add(true, COW_ETYPE);
        } else {
            t.index = k % world::slots;
            t.where = &w.slot[t.index];
            t.defects.add(*t.where == nullptr, COW_EINVAL);
        }
        return t;
    }
    // A handle argument of a read-only call.
    const void *draw_source(expectation &e) {
        int k = in.ConsumeIntegralInRange<int>(0, world::slots + 2);
        if (k == world::slots) {
            e.add(true, COW_EINVAL);
            return nullptr;
        }
        if (k == world::slots + 1) {
            e.add(true, COW_ETYPE);
            return foreign();
        }
        if (k == world::slots + 2) {
            e.add(true, COW_ETYPE);
            return fake;
        }
        const void *h = w.slot[k];
        e.add(h == nullptr, COW_EINVAL);
        return h;
    }

    // Checks what a failed edit must leave behind. A tree's lineage may
    // have counted node copies of steps that succeeded before the failure
    // (its counters only grow): bounded like a write's.
    void failed(const target &t, void *before, const before_call &bc) {
        if (t.where) FUZZ_CHECK(*t.where == before);
        bc.unchanged();
        if (w.known(before) && w.rep(before).is_tree()) w.tree_written(w.rep(before), {}, false);
    }

    // -- operations -------------------------------------------------------

    void op_clone() {
        int j = draw_slot();
        bool typed = in.ConsumeBool();
        int mode = in.ConsumeIntegralInRange<int>(0, 9);
        const void *src = w.slot[draw_slot()];
        if (mode == 0) src = nullptr;
        if (mode == 1) src = fake;
        if (mode == 2) {
            src = foreign();
            typed = true;  // the generic cow_clone would (rightly) accept it
        }
        before_call bc;
        void *c = typed ? api.clone(src) : cow_clone(src);
        trace(typed ? "typed clone" : "cow_clone", src);
        bool alloc_refused = allocator.take_refusal();
        bool injected = alloc_refused || take_callback_failure() != COW_OK;
        disarm_failure();
        // A typed clone of another kind's handle is refused like garbage.
        bool wrong_kind = typed && w.known(src) && w.rep(src).kind != api.kind;
        if (!w.known(src) || src == foreign() || wrong_kind) {
            FUZZ_CHECK(c == nullptr);
            FUZZ_CHECK(allocator.calls == bc.calls);
            bc.unchanged();
            return;
        }
        rep_model r = w.rep(src);
        if (world::copies_at_clone(r)) {
            // Eager: a private copy, or NULL when the copy failed.
            if (!c) {
                FUZZ_CHECK(injected);
                last_call_failed = true;
                bc.unchanged();
                return;
            }
            FUZZ_CHECK(!injected && c != src);
            w.copied(c, src, [](rep_model &) {}, world::value_bytes(r), true);
        } else {
            // O(1): the same representation, nothing allocated.
            FUZZ_CHECK(c == src);
            FUZZ_CHECK(allocator.calls == bc.calls);
            w.cloned(src);
        }
        put(j, c);
    }

    // How op_release lets go of a handle.
    enum class release_call : std::uint8_t {
        typed,           // the target kind's release (cow_buf_release...)
        ignored_first,   // calls that must do nothing, then cow_release
        generic, generic_2, generic_3,  // cow_release
        count
    };
    void op_release() {
        int i = draw_slot();
        void *h = w.slot[i];
        trace("release", h);
        bool own_kind = h && w.rep(h).kind == api.kind;
        switch (draw_op<release_call>()) {
        case release_call::typed:
            api.release(h);
            if (!own_kind && h) {
                w.check();  // the typed release ignored another kind's handle
                cow_release(h);
            }
            break;
        case release_call::ignored_first:
            // Another kind's release, NULL and a fake pointer do nothing.
            if (own_kind) api.release_wrong_kind(h);
            cow_release(nullptr);
            cow_release(fake);
            api.release(nullptr);
            w.check();
            cow_release(h);
            break;
        case release_call::generic:
        case release_call::generic_2:
        case release_call::generic_3: cow_release(h); break;
        case release_call::count: break;  // never drawn
        }
        if (h) w.released(h);
        w.slot[i] = nullptr;
    }

    // cow_make_mut through the generic entry point (any kind).
    void op_make_mut_generic(target *given = nullptr) {
        target t = given ? *given : draw_target(false);
        expectation e = t.defects;
        void *old = t.handle();
        std::uint64_t bytes = t.valid() ? world::value_bytes(w.rep(old)) : 0;
        before_call bc;
        cow_status st = cow_make_mut(t.where);
        if (!FUZZ_JUDGE("cow_make_mut", e, st, bc)) return failed(t, old, bc);
        // A tree gets a private root only; an ADAPTIVE value keeps its
        // representation.
        w.edited(old, t.handle(), true, bytes, [](rep_model &) {}, tree_cost::root_only(), adaptive_rule::never);
        FUZZ_CHECK(!cow_is_shared(t.handle()));
    }

    void op_stats() {
        expectation e;
        const void *h = draw_source(e);
        if (h == foreign()) h = fake;  // statistics work for any kind: keep the defect
        if (in.ConsumeBool()) {
            // cow_stats with every struct size an old or broken caller passes.
            cow_stats_info info;
            std::memset(&info, 0xab, sizeof info);
            std::uint32_t size = sizeof info;
            switch (in.ConsumeIntegralInRange<int>(0, 5)) {
            case 0: size = in.ConsumeIntegralInRange<std::uint32_t>(0, 7); e.add(true, COW_EINVAL); break;
            case 1: size = 16; break;
            case 2: size = 8; break;
            case 3: size = offsetof(cow_stats_info, representation); break;  // the 0.1 layout
            default: break;
            }
            bool null_out = in.ConsumeIntegralInRange<int>(0, 15) == 0;
            e.add(null_out, COW_EINVAL);
            info.size = size;
            before_call bc;
            cow_status st = cow_stats(h, null_out ? nullptr : &info);
            if (!FUZZ_JUDGE("cow_stats", e, st, bc)) return bc.unchanged();
            FUZZ_CHECK(info.size == size);
            lineage_model *l = w.lin(w.rep(h));
            if (size >= 8) FUZZ_CHECK(info.enabled == (l ? 1u : 0u));
            if (size >= 16) FUZZ_CHECK(info.clones == (l ? l->clones : 0));
            // Nothing is written past the caller's size.
            const unsigned char *raw = reinterpret_cast<const unsigned char *>(&info);
            for (std::size_t k = size; k < sizeof info; ++k) FUZZ_CHECK(raw[k] == 0xab);
            return;
        }
        std::uint32_t format = in.ConsumeIntegralInRange<std::uint32_t>(0, 2);
        if (format == 2) format = in.ConsumeIntegralInRange<std::uint32_t>(2, UINT32_MAX);
        e.add(format > COW_REPORT_JSON, COW_EINVAL);
        bool null_out = in.ConsumeIntegralInRange<int>(0, 15) == 0;
        e.add(null_out, COW_EINVAL);
        cow_str *report = sentinel<cow_str>();
        before_call bc;
        cow_status st = cow_stats_report(h, format, null_out ? nullptr : &report);
        if (!FUZZ_JUDGE("cow_stats_report", e, st, bc)) {
            FUZZ_CHECK(report == sentinel<cow_str>());
            return bc.unchanged();
        }
        rep_model &r = w.rep(h);
        lineage_model *l = w.lin(r);
        char expect[96];
        if (format == COW_REPORT_TEXT)
            std::snprintf(expect, sizeof expect, "Clones: %" PRIu64 "\nCopies: %" PRIu64 "\n",
                          l ? l->clones : 0, l ? l->copies : 0);
        else
            std::snprintf(expect, sizeof expect, "\"clones\":%" PRIu64 ",\"copies\":%" PRIu64,
                          l ? l->clones : 0, l ? l->copies : 0);
        std::string text(cow_str_data(report), cow_str_len(report));
        FUZZ_CHECK(text.find(expect) != std::string::npos);
        std::uint64_t switches = l ? l->switches : 0;
        if (format == COW_REPORT_TEXT) {
            // An ADAPTIVE value's report says what it is now and how often
            // its lineage switched; a STRUCTURAL one says it is a tree; the
            // others say nothing of it.
            char lines[96];
            std::snprintf(lines, sizeof lines, "Representation: %s\nSwitches: %" PRIu64 "\n",
                          r.is_tree() ? "tree" : "flat", switches);
            bool adaptive = r.adaptive();
            FUZZ_CHECK((text.find(lines) != std::string::npos) == adaptive);
            FUZZ_CHECK((text.find("Representation: tree\n") != std::string::npos) == r.is_tree());
            FUZZ_CHECK((text.find("Representation: flat") != std::string::npos) == (adaptive && !r.is_tree()));
            FUZZ_CHECK((text.find("Switches:") != std::string::npos) == adaptive);
        } else {
            char fields[128];
            std::snprintf(fields, sizeof fields, "\"representation\":\"%s\",\"nodes_copied\":%" PRIu64 ",\"switches\":%" PRIu64 "}",
                          r.is_tree() ? "tree" : "flat", l ? l->nodes_copied : 0, switches);
            FUZZ_CHECK(text.find(fields) != std::string::npos);
            FUZZ_CHECK(text.back() == '}');
        }
        FUZZ_CHECK(utf8_ok(text));
        cow_release(report);
        bc.unchanged();
    }

    // Queries on NULL and a fake pointer.
    void op_queries() {
        FUZZ_CHECK(cow_kind(nullptr) == COW_KIND_INVALID && cow_kind(fake) == COW_KIND_INVALID);
        FUZZ_CHECK(cow_strong_count(nullptr) == 0 && cow_strong_count(fake) == 0);
        FUZZ_CHECK(!cow_is_shared(nullptr) && !cow_is_shared(fake));
        FUZZ_CHECK(!cow_ptr_eq(nullptr, nullptr) && !cow_ptr_eq(fake, fake));
        FUZZ_CHECK(cow_clone(nullptr) == nullptr && cow_clone(fake) == nullptr);
        FUZZ_CHECK(api.clone(foreign()) == nullptr);
        cow_stats_info info COW_STATS_INFO_INIT;
        FUZZ_CHECK(cow_stats(nullptr, &info) == COW_EINVAL);
        FUZZ_CHECK(cow_stats(fake, &info) == COW_ETYPE);
        FUZZ_CHECK(cow_make_mut(nullptr) == COW_EINVAL);
        void *empty = nullptr;
        FUZZ_CHECK(cow_make_mut(&empty) == COW_EINVAL && empty == nullptr);
        FUZZ_CHECK(cow_global_stats(nullptr) == COW_EINVAL);
    }

    // The next operation's k-th allocation, or k-th copy of a tracked value,
    // fails (with a libcow status or a foreign one, for callbacks).
    std::uint64_t pending_alloc_failure = 0;
    std::uint64_t pending_copy_failure = 0;
    cow_status pending_copy_status = COW_ECALLBACK;
    //
    // The failure's position: one input byte, the first four calls for
    // byte values below 128 (as before trees), calls 5 to 100 (or copies 5
    // to 132) above, which tree writes reach (a path of nodes, a leaf of
    // element copies); and for the top values of an allocation failure a
    // sweep: the next operation's call fails at each of its allocations in
    // turn (sweep_call).
    bool pending_sweep = false;
    void op_arm_failure() {
        if (in.ConsumeBool()) {
            int b = in.ConsumeIntegralInRange<int>(0, 255);
            if (b >= 224) pending_sweep = true;
            else pending_alloc_failure = static_cast<std::uint64_t>(b < 128 ? 1 + b % 4 : 5 + (b - 128));
        } else {
            static const cow_status codes[] = {COW_ENOMEM, COW_ECALLBACK, COW_EINVAL, 1000, -7};
            int b = in.ConsumeIntegralInRange<int>(0, 255);
            pending_copy_failure = static_cast<std::uint64_t>(b < 128 ? 1 + b % 4 : 5 + (b - 128));
            pending_copy_status = codes[in.ConsumeIntegralInRange<int>(0, 4)];
        }
    }
    bool sweeping = false;
    void before_op() {
        last_call_failed = false;
        w.last_switched = nullptr;
        forget_failures();
        if (pending_alloc_failure) arm_failure(pending_alloc_failure);
        if (pending_copy_failure) arm_copy_failure(pending_copy_failure, pending_copy_status);
        pending_alloc_failure = pending_copy_failure = 0;
        sweeping = pending_sweep;
        pending_sweep = false;
    }

    // Makes a call. After a sweep was armed, the call is first made with its
    // 1st, 2nd, ... allocation failing, until one run gets through without
    // reaching the failing one: each failing run must answer COW_ENOMEM and
    // change nothing (`unchanged` checks the call's own arguments; the whole
    // model is checked too, outside nested edits). The last run's status
    // goes to the caller to judge. `tree`: a tree the call writes (a failure
    // may leave node copies counted, see failed()).
    template <class Call, class Unchanged>
    cow_status sweep_call(Call &&call, Unchanged &&unchanged, const void *tree = nullptr) {
        if (!sweeping) return call();
        sweeping = false;
        for (long k = 1;; ++k) {
            FUZZ_CHECK(k < 100000);  // a call that never gets through
            forget_failures();
            arm_failure(k);
            before_call bc;
            cow_status st = call();
            // The armed allocation was reached (a request refused for its
            // size alone is not the sweep's).
            bool reached = allocator.calls - bc.calls >= k;
            disarm_failure();
            if (!reached) return st;
            FUZZ_CHECK(allocator.take_refusal());
            if (tracing()) std::fprintf(stderr, "  (sweep: allocation %ld fails) -> %s\n", k, cow_strerror(st));
            FUZZ_CHECK(st == COW_ENOMEM);
            unchanged();
            bc.unchanged();
            if (tree && w.known(tree) && w.rep(tree).is_tree()) w.tree_written(w.rep(tree), {}, false);
            if (w.failed_calls_may_count) w.resync_after_failure();
            if (!nested) w.check();
        }
    }
    bool nested = false;  // set while a nested edit runs (the model of the outer containers lags)
    void after_op() {
        disarm_failure();
        tracker.counts.disarm();
        forget_failures();
        if (last_call_failed && w.failed_calls_may_count) w.resync_after_failure();
        w.check();
    }

    void finish() {
        w.release_all();
        FUZZ_CHECK(tracker.live.empty());
        end_input();
    }
};

// The body of every target's LLVMFuzzerTestOneInput: decode up to 200
// operations into Fuzzer's pool, checking after each, then release all.
template <class Fuzzer>
int run_input(const std::uint8_t *data, std::size_t size) {
    begin_input();
    {
        provider in(data, size);
        Fuzzer f(in);
        for (int steps = 0; steps < 200 && in.remaining_bytes() > 0; ++steps) {
            f.before_op();
            f.step();
            f.after_op();
        }
        f.finish();
    }
    return 0;
}

}  // namespace fuzz
