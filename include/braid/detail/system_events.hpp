// SystemEvents: the "startup" and "shutdown" events of a reactor, each fired in three
// phases (before, during, after) as Twisted's _ThreePhaseEvent does. Shared by
// braid::Reactor and braid::testing::MemoryReactor.
#pragma once

#include <braid/deferred.hpp>
#include <braid/detail/function.hpp>
#include <braid/log.hpp>

#include <cstdint>
#include <string_view>
#include <vector>

namespace braid::detail {

class SystemEvents {
public:
    using TriggerId = std::uint64_t;

    explicit SystemEvents(Logger& log) : log_(log) {}

    // Throws std::invalid_argument for a phase other than before/during/after or an event
    // other than startup/shutdown.
    TriggerId add(std::string_view phase, std::string_view event,
                  UniqueFunction<Deferred<void>()> f);
    void remove(TriggerId id);

    // Fires `event`: the "before" triggers, then (once the Deferreds they returned have
    // fired; failures are logged) the "during" ones, `betweenDuringAndAfter`, the "after"
    // ones, and `then`. Each trigger runs once; one added while its phase runs runs too.
    void fire(std::string_view event, UniqueFunction<void()> betweenDuringAndAfter,
              UniqueFunction<void()> then);

private:
    struct Trigger {
        TriggerId id;
        int phase; // 0 before, 1 during, 2 after
        bool startup;
        UniqueFunction<Deferred<void>()> f;
    };

    std::vector<Deferred<void>> firePhase(bool startup, int phase);

    Logger& log_;
    std::vector<Trigger> triggers_;
    TriggerId nextId_ = 1;
};

} // namespace braid::detail
