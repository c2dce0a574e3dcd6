// LogCapture: records every log event (debug and above) while it lives, and by default
// silences the default stderr observer meanwhile, so tests can assert on what was logged.
#pragma once

#include <braid/log.hpp>

#include <cstddef>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace braid::testing {

class LogCapture {
public:
    enum class DefaultObserver { silenced, kept };

    explicit LogCapture(DefaultObserver defaultObserver = DefaultObserver::silenced,
                        LogPublisher& publisher = logPublisher())
        : publisher_(publisher),
          silences_(defaultObserver == DefaultObserver::silenced),
          defaultWasEnabled_(publisher.defaultObserverEnabled()) {
        // Events may come from other threads, hence the lock; the publisher does not call
        // the observer any more once removeObserver() has returned.
        id_ = publisher_.addObserver([this](const LogEvent& event) {
            std::lock_guard lock(mutex_);
            events_.push_back(event);
        });
        if (silences_) {
            publisher_.setDefaultObserverEnabled(false);
        }
    }

    LogCapture(const LogCapture&) = delete;
    LogCapture& operator=(const LogCapture&) = delete;

    ~LogCapture() {
        publisher_.removeObserver(id_);
        if (silences_) {
            publisher_.setDefaultObserverEnabled(defaultWasEnabled_);
        }
    }

    [[nodiscard]] std::vector<LogEvent> events() const {
        std::lock_guard lock(mutex_);
        return events_;
    }

    [[nodiscard]] std::size_t size() const {
        std::lock_guard lock(mutex_);
        return events_.size();
    }

    [[nodiscard]] std::vector<std::string> texts() const {
        std::lock_guard lock(mutex_);
        std::vector<std::string> texts;
        texts.reserve(events_.size());
        for (const LogEvent& event : events_) {
            texts.push_back(event.text);
        }
        return texts;
    }

    // Whether any event's text contains needle.
    [[nodiscard]] bool contains(std::string_view needle) const { return count(needle) > 0; }

    // How many events' texts contain needle.
    [[nodiscard]] std::size_t count(std::string_view needle) const {
        std::lock_guard lock(mutex_);
        std::size_t found = 0;
        for (const LogEvent& event : events_) {
            found += event.text.find(needle) != std::string::npos ? 1 : 0;
        }
        return found;
    }

    void clear() {
        std::lock_guard lock(mutex_);
        events_.clear();
    }

private:
    LogPublisher& publisher_;
    bool silences_;
    bool defaultWasEnabled_;
    ObserverId id_ = 0;
    mutable std::mutex mutex_;
    std::vector<LogEvent> events_;
};

} // namespace braid::testing
