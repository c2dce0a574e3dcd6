// Structured logging in the spirit of twisted.logger: a Logger emits events (a format string
// with named fields) to the observers registered on a LogPublisher, by default logPublisher(),
// which writes text lines to stderr at info and above until told otherwise.
#pragma once

#include <fmt/core.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace braid {

enum class LogLevel : std::uint8_t { debug, info, warn, error, critical };

// "debug", "info", "warn", "error" or "critical".
[[nodiscard]] std::string_view levelName(LogLevel level) noexcept;

struct LogEvent {
    LogLevel level = LogLevel::info;
    std::string ns;     // the emitting Logger's namespace, e.g. "braid.tcp"
    std::string format; // the format string as written
    std::string text;   // the formatted message
    // The named arguments (fmt::arg("peer", peer)), each formatted with "{}".
    std::vector<std::pair<std::string, std::string>> fields;
    double time = 0.0; // seconds since the Unix epoch
};

using LogObserver = std::function<void(const LogEvent&)>;
using ObserverId = std::uint64_t;

// Dispatches events to observers. Thread-safe: events are delivered one at a time, so an
// observer is never called concurrently with itself or with removeObserver() from another
// thread. An observer may log, or add and remove observers, from inside its call.
class LogPublisher {
public:
    // defaultObserver (if any) receives the events at defaultMinimum and above while it is
    // enabled, which it is to begin with.
    explicit LogPublisher(LogObserver defaultObserver = {},
                          LogLevel defaultMinimum = LogLevel::info);
    LogPublisher(const LogPublisher&) = delete;
    LogPublisher& operator=(const LogPublisher&) = delete;
    ~LogPublisher();

    // observer receives the events at minimum and above until removeObserver(id).
    ObserverId addObserver(LogObserver observer, LogLevel minimum = LogLevel::debug);
    // Unknown ids are ignored.
    void removeObserver(ObserverId id);

    void setDefaultObserverEnabled(bool enabled);
    [[nodiscard]] bool defaultObserverEnabled() const;

    // Whether any observer takes events at this level: Logger checks it before formatting.
    [[nodiscard]] bool wants(LogLevel level) const noexcept {
        return static_cast<int>(level) >= threshold_.load(std::memory_order_relaxed);
    }

    // Delivers event to every observer that takes its level. Never throws: an observer that
    // throws is skipped for that event, and the first error of each observer goes to stderr.
    void publish(const LogEvent& event) noexcept;

private:
    struct Record;
    using Records = std::vector<std::shared_ptr<Record>>;

    ObserverId addLocked(LogObserver observer, LogLevel minimum);
    void removeLocked(ObserverId id);
    void updateThreshold();

    mutable std::recursive_mutex mutex_;
    // Replaced, never modified in place, so publish() can go on iterating over the list it
    // started with while an observer adds or removes observers.
    std::shared_ptr<const Records> records_;
    std::atomic<int> threshold_;
    ObserverId nextId_ = 1;
    LogObserver defaultObserver_;
    LogLevel defaultMinimum_;
    ObserverId defaultId_ = 0; // 0 while the default observer is disabled
};

// The process-wide publisher, with a text observer on stderr (info and above) as its
// default observer. Never destroyed, so logging works during static destruction.
[[nodiscard]] LogPublisher& logPublisher();

// "2026-11-22T10:00:00Z [braid.tcp#info] connection from 10.0.0.1\n"; continuation lines
// of a multi-line text are indented with a tab.
[[nodiscard]] std::string eventAsText(const LogEvent& event);

// One line of JSON (no newline): {"time":...,"level":"info","namespace":"braid.tcp",
// "text":"...","format":"...","fields":{"peer":"..."}}. Bytes that are not valid UTF-8
// become U+FFFD.
[[nodiscard]] std::string eventAsJSON(const LogEvent& event);

// Observers writing eventAsText() or eventAsJSON() lines to file (which must outlive them),
// flushing after each event.
[[nodiscard]] LogObserver textObserver(std::FILE* file);
[[nodiscard]] LogObserver jsonObserver(std::FILE* file);

namespace detail {

// Whether T is what fmt::arg() returns; fmt has no public trait for it (fmt 9 and 10 agree).
template <class T>
inline constexpr bool isNamedArg = fmt::detail::is_named_arg<std::remove_cvref_t<T>>::value;

// "{}" of value; logging must not throw, so a formatter that throws gives a placeholder.
template <class T>
std::string formatField(const T& value) noexcept {
    try {
        return fmt::format("{}", value);
    } catch (...) {
        return "<unformattable>";
    }
}

} // namespace detail

// Emits events under one namespace:
//     Logger log{"braid.tcp"};
//     log.info("connection from {peer}", fmt::arg("peer", peer));
// Named arguments become the event's fields; positional arguments are allowed too. When no
// observer takes the level, nothing is formatted. A formatter or an observer that throws
// does not make logging throw.
class Logger {
public:
    explicit Logger(std::string ns, LogPublisher& publisher = logPublisher())
        : ns_(std::move(ns)), publisher_(&publisher) {}

    [[nodiscard]] const std::string& ns() const noexcept { return ns_; }

    template <class... A>
    void debug(fmt::format_string<A...> format, A&&... args) {
        emit(LogLevel::debug, format, std::forward<A>(args)...);
    }

    template <class... A>
    void info(fmt::format_string<A...> format, A&&... args) {
        emit(LogLevel::info, format, std::forward<A>(args)...);
    }

    template <class... A>
    void warn(fmt::format_string<A...> format, A&&... args) {
        emit(LogLevel::warn, format, std::forward<A>(args)...);
    }

    template <class... A>
    void error(fmt::format_string<A...> format, A&&... args) {
        emit(LogLevel::error, format, std::forward<A>(args)...);
    }

    template <class... A>
    void critical(fmt::format_string<A...> format, A&&... args) {
        emit(LogLevel::critical, format, std::forward<A>(args)...);
    }

    template <class... A>
    void emit(LogLevel level, fmt::format_string<A...> format, A&&... args) {
        if (!publisher_->wants(level)) {
            return;
        }
        std::vector<std::pair<std::string, std::string>> fields;
        if constexpr ((detail::isNamedArg<A> || ...)) {
            fields.reserve((std::size_t{detail::isNamedArg<A>} + ...));
            (addField(fields, args), ...);
        }
        publish(level, format, fmt::make_format_args(args...), std::move(fields));
    }

private:
    template <class T>
    static void addField(std::vector<std::pair<std::string, std::string>>& fields, const T& arg) {
        if constexpr (detail::isNamedArg<T>) {
            fields.emplace_back(arg.name, detail::formatField(arg.value));
        }
    }

    void publish(LogLevel level, fmt::string_view format, fmt::format_args args,
                 std::vector<std::pair<std::string, std::string>> fields) const noexcept;

    std::string ns_;
    LogPublisher* publisher_;
};

} // namespace braid
