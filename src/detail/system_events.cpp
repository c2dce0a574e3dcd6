#include <braid/deferred_list.hpp>
#include <braid/detail/system_events.hpp>

#include <algorithm>
#include <stdexcept>
#include <string>

namespace braid::detail {

namespace {

int phaseIndex(std::string_view phase) {
    for (int index = 0; std::string_view name : {"before", "during", "after"}) {
        if (phase == name) {
            return index;
        }
        ++index;
    }
    throw std::invalid_argument("system event phase must be before, during or after, not '" +
                                std::string(phase) + "'");
}

bool isStartup(std::string_view event) {
    if (event != "startup" && event != "shutdown") {
        throw std::invalid_argument("system event must be startup or shutdown, not '" +
                                    std::string(event) + "'");
    }
    return event == "startup";
}

} // namespace

SystemEvents::TriggerId SystemEvents::add(std::string_view phase, std::string_view event,
                                          UniqueFunction<Deferred<void>()> f) {
    triggers_.push_back(Trigger{nextId_, phaseIndex(phase), isStartup(event), std::move(f)});
    return nextId_++;
}

void SystemEvents::remove(TriggerId id) {
    std::erase_if(triggers_, [id](const Trigger& trigger) { return trigger.id == id; });
}

void SystemEvents::fire(std::string_view event, UniqueFunction<void()> betweenDuringAndAfter,
                        UniqueFunction<void()> then) {
    bool startup = isStartup(event);
    auto before = DeferredList(firePhase(startup, 0), {.consumeErrors = true});
    (void)before.addCallback(
        [this, startup, between = std::move(betweenDuringAndAfter),
         then = std::move(then)](const std::vector<Outcome<void>>& outcomes) mutable {
            for (const Outcome<void>& outcome : outcomes) {
                if (outcome.failed()) {
                    log_.error("A \"before {}\" trigger failed: {}",
                               startup ? "startup" : "shutdown", outcome.failure().toString());
                }
            }
            firePhase(startup, 1);
            between();
            firePhase(startup, 2);
            then();
        });
}

std::vector<Deferred<void>> SystemEvents::firePhase(bool startup, int phase) {
    std::vector<Deferred<void>> results;
    auto next = [&] {
        return std::find_if(triggers_.begin(), triggers_.end(), [&](const Trigger& trigger) {
            return trigger.startup == startup && trigger.phase == phase;
        });
    };
    for (auto it = next(); it != triggers_.end(); it = next()) {
        auto f = std::move(it->f);
        triggers_.erase(it);
        try {
            results.push_back(f());
        } catch (...) {
            log_.error("Unhandled exception in a system event trigger: {}",
                       Failure::current().toString());
        }
    }
    return results;
}

} // namespace braid::detail
