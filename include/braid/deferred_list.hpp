// Waiting on many Deferreds at once: DeferredList, gatherResults and gather, as in
// twisted.internet.defer. FirstError reports which Deferred failed first.
#pragma once

#include <braid/deferred.hpp>

#include <fmt/format.h>

#include <cstddef>
#include <memory>
#include <optional>
#include <source_location>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace braid {

// The first failure among several Deferreds, and the position of the one that failed.
class FirstError : public Error {
public:
    FirstError(Failure subFailure, std::size_t index)
        : Error(fmt::format("FirstError[#{}, {}]", index, subFailure.toString())),
          subFailure(std::move(subFailure)),
          index(index) {}

    Failure subFailure;
    std::size_t index;
};

struct DeferredListOptions {
    bool fireOnOneCallback = false; // fire as soon as one succeeds
    bool fireOnOneErrback = false;  // fail with FirstError as soon as one fails
    bool consumeErrors = false;     // stop failures here (not reported as unhandled)
};

namespace detail {

// Adds a link to `d` that hands its outcome to sink(outcome) and takes the value out.
template <class T, class Sink>
void consume(Deferred<T>&& d, Sink sink, bool consumeErrors) {
    Chain& chain = ChainAccess::of(d);
    chain.add(ConsumeLink<T, Sink>{std::move(sink), consumeErrors});
}

// Shared by the links DeferredList adds to each of its Deferreds.
template <class T>
struct DeferredListState {
    DeferredListState(std::size_t count, DeferredListOptions options, std::source_location where)
        : results(count), members(count, nullptr), options(options), result(where) {}

    void finish(std::size_t index, Outcome<T>&& outcome) {
        members[index] = nullptr;
        ++finished;
        if (result.called()) {
            return;
        }
        if (outcome.succeeded() && options.fireOnOneCallback) {
            results[index] = std::move(outcome);
            result.callback(std::move(results));
        } else if (outcome.failed() && options.fireOnOneErrback) {
            result.errback(FirstError(outcome.failure(), index));
        } else {
            results[index] = std::move(outcome);
            if (finished == results.size()) {
                result.callback(std::move(results));
            }
        }
    }

    std::vector<Outcome<T>> results;
    std::vector<Chain*> members; // weak: cleared when a member's link runs or dies
    std::size_t finished = 0;
    DeferredListOptions options;
    Deferred<std::vector<Outcome<T>>> result;
};

} // namespace detail

// Waits for every Deferred in `deferreds` and fires with their outcomes, in order.
// With fireOnOneCallback it fires at the first success (entries not finished yet are
// empty Outcomes); with fireOnOneErrback it fails with FirstError at the first failure.
// It takes the results out of the Deferreds given. Cancelling it cancels them all.
template <class T>
Deferred<std::vector<Outcome<T>>>
DeferredList(std::vector<Deferred<T>> deferreds, DeferredListOptions options = {},
             std::source_location where = std::source_location::current()) {
    using State = detail::DeferredListState<T>;
    auto state = std::make_shared<State>(deferreds.size(), options, where);
    Deferred<std::vector<Outcome<T>>> result(
        [weak = std::weak_ptr<State>(state)] {
            if (auto alive = weak.lock()) {
                for (detail::Chain* member : alive->members) {
                    if (member != nullptr) {
                        detail::ChainRef(member)->cancel();
                    }
                }
            }
        },
        where);
    state->result = result;
    if (deferreds.empty() && !options.fireOnOneCallback) {
        result.callback({});
        return result;
    }
    for (std::size_t i = 0; i < deferreds.size(); ++i) {
        state->members[i] = &detail::ChainAccess::of(deferreds[i]);
    }
    for (std::size_t i = 0; i < deferreds.size(); ++i) {
        // The sink keeps the state alive until its Deferred has a result (or dies).
        struct Sink {
            std::shared_ptr<State> state;
            std::size_t index;
            Sink(std::shared_ptr<State> s, std::size_t i) : state(std::move(s)), index(i) {}
            Sink(Sink&& other) noexcept = default;
            Sink(const Sink&) = delete;
            Sink& operator=(const Sink&) = delete;
            Sink& operator=(Sink&&) = delete;
            ~Sink() {
                if (state) {
                    state->members[index] = nullptr;
                }
            }
            void operator()(Outcome<T>&& outcome) noexcept {
                // finish() checks that the list has not fired yet, so it cannot throw
                // AlreadyCalledError; it runs inside a link, which must not throw.
                state->finish(index, std::move(outcome));
            }
        };
        detail::consume(std::move(deferreds[i]), Sink(state, i), options.consumeErrors);
    }
    return result;
}

// The values of all of `deferreds`, in order, or FirstError at the first failure.
template <class T>
auto gatherResults(std::vector<Deferred<T>> deferreds, bool consumeErrors = false,
                   std::source_location where = std::source_location::current()) {
    auto list = DeferredList(std::move(deferreds),
                             {.fireOnOneErrback = true, .consumeErrors = consumeErrors}, where);
    if constexpr (std::is_void_v<T>) {
        return list.addCallback([](std::vector<Outcome<T>>) {});
    } else {
        return list.addCallback([](std::vector<Outcome<T>> outcomes) {
            std::vector<T> values;
            values.reserve(outcomes.size());
            for (auto& outcome : outcomes) {
                values.push_back(std::move(outcome).value());
            }
            return values;
        });
    }
}

namespace detail {
template <class T>
using GatherSlot = std::conditional_t<std::is_void_v<T>, std::monostate, T>;
} // namespace detail

// gather(d1, d2, ...): a Deferred of the tuple of their values (std::monostate for a
// Deferred<void>), or FirstError at the first failure. Failures are consumed.
template <class... T>
Deferred<std::tuple<detail::GatherSlot<T>...>> gather(Deferred<T>... deferreds) {
    using Tuple = std::tuple<detail::GatherSlot<T>...>;
    struct State {
        std::tuple<std::optional<detail::GatherSlot<T>>...> slots;
        std::size_t finished = 0;
        Deferred<Tuple> result;
    };
    auto state = std::make_shared<State>();
    Deferred<Tuple> result = state->result;
    auto watch = [&state]<std::size_t I, class U>(std::integral_constant<std::size_t, I>,
                                                  Deferred<U>&& d) {
        detail::consume(
            std::move(d),
            [state](Outcome<U>&& outcome) noexcept {
                if (state->result.called()) {
                    return;
                }
                if (outcome.failed()) {
                    state->result.errback(FirstError(outcome.failure(), I));
                    return;
                }
                if constexpr (std::is_void_v<U>) {
                    std::get<I>(state->slots).emplace();
                } else {
                    std::get<I>(state->slots).emplace(std::move(outcome).value());
                }
                if (++state->finished == sizeof...(T)) {
                    state->result.callback(std::apply(
                        [](auto&... slot) { return Tuple(std::move(*slot)...); }, state->slots));
                }
            },
            true);
    };
    [&]<std::size_t... I>(std::index_sequence<I...>) {
        (watch(std::integral_constant<std::size_t, I>{}, std::move(deferreds)), ...);
    }(std::index_sequence_for<T...>{});
    if constexpr (sizeof...(T) == 0) {
        result.callback(Tuple{});
    }
    return result;
}

} // namespace braid
