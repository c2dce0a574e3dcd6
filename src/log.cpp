#include <braid/log.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <ctime>
#include <iterator>

namespace braid {

namespace {

// Above every level: no observer.
constexpr int noThreshold = static_cast<int>(LogLevel::critical) + 1;

double unixNow() {
    return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

std::string isoTimestamp(double time) {
    const auto seconds = static_cast<std::time_t>(std::floor(time));
    std::tm utc{};
    if (gmtime_r(&seconds, &utc) == nullptr) {
        return "-";
    }
    char buffer[32];
    const std::size_t length = std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%SZ", &utc);
    return {buffer, length};
}

// The length of the well-formed UTF-8 sequence that s starts with, or 0 if it does not
// start with one (Unicode 15, table 3-7: no overlong forms, surrogates or values past U+10FFFF).
std::size_t utf8SequenceLength(std::string_view s) {
    const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
    const unsigned char lead = byte(0);
    std::size_t length = 0;
    unsigned char low = 0x80; // range of the second byte
    unsigned char high = 0xBF;
    if (lead >= 0xC2 && lead <= 0xDF) {
        length = 2;
    } else if (lead >= 0xE0 && lead <= 0xEF) {
        length = 3;
        low = lead == 0xE0 ? 0xA0 : 0x80;
        high = lead == 0xED ? 0x9F : 0xBF;
    } else if (lead >= 0xF0 && lead <= 0xF4) {
        length = 4;
        low = lead == 0xF0 ? 0x90 : 0x80;
        high = lead == 0xF4 ? 0x8F : 0xBF;
    } else {
        return 0;
    }
    if (s.size() < length || byte(1) < low || byte(1) > high) {
        return 0;
    }
    for (std::size_t i = 2; i < length; ++i) {
        if ((byte(i) & 0xC0) != 0x80) {
            return 0;
        }
    }
    return length;
}

void appendJsonString(std::string& out, std::string_view s) {
    out += '"';
    std::size_t i = 0;
    while (i < s.size()) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c >= 0x80) {
            const std::size_t length = utf8SequenceLength(s.substr(i));
            if (length == 0) {
                out += "\\ufffd";
                ++i;
            } else {
                out.append(s.substr(i, length));
                i += length;
            }
            continue;
        }
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
            if (c < 0x20 || c == 0x7F) {
                fmt::format_to(std::back_inserter(out), "\\u{:04x}", c);
            } else {
                out += static_cast<char>(c);
            }
        }
        ++i;
    }
    out += '"';
}

// what() of the exception being handled.
std::string currentExceptionMessage() {
    try {
        throw;
    } catch (const std::exception& e) {
        return e.what();
    } catch (...) {
        return "unknown exception";
    }
}

void writeLine(std::FILE* file, const std::string& line) {
    std::fwrite(line.data(), 1, line.size(), file);
    std::fflush(file);
}

} // namespace

std::string_view levelName(LogLevel level) noexcept {
    switch (level) {
    case LogLevel::debug: return "debug";
    case LogLevel::info: return "info";
    case LogLevel::warn: return "warn";
    case LogLevel::error: return "error";
    case LogLevel::critical: return "critical";
    }
    return "unknown";
}

// --- LogPublisher --------------------------------------------------------------------------

struct LogPublisher::Record {
    ObserverId id;
    LogLevel minimum;
    LogObserver observer;
    bool removed = false;         // publish() may still hold a list that has it
    bool reportedFailure = false; // its first exception was written to stderr
};

LogPublisher::LogPublisher(LogObserver defaultObserver, LogLevel defaultMinimum)
    : records_(std::make_shared<const Records>()),
      threshold_(noThreshold),
      defaultObserver_(std::move(defaultObserver)),
      defaultMinimum_(defaultMinimum) {
    setDefaultObserverEnabled(true);
}

LogPublisher::~LogPublisher() = default;

ObserverId LogPublisher::addObserver(LogObserver observer, LogLevel minimum) {
    std::lock_guard lock(mutex_);
    return addLocked(std::move(observer), minimum);
}

void LogPublisher::removeObserver(ObserverId id) {
    std::lock_guard lock(mutex_);
    removeLocked(id);
}

void LogPublisher::setDefaultObserverEnabled(bool enabled) {
    std::lock_guard lock(mutex_);
    if (!defaultObserver_ || enabled == (defaultId_ != 0)) {
        return;
    }
    if (enabled) {
        defaultId_ = addLocked(defaultObserver_, defaultMinimum_);
    } else {
        removeLocked(std::exchange(defaultId_, 0));
    }
}

bool LogPublisher::defaultObserverEnabled() const {
    std::lock_guard lock(mutex_);
    return defaultId_ != 0;
}

void LogPublisher::publish(const LogEvent& event) noexcept {
    std::lock_guard lock(mutex_);
    const std::shared_ptr<const Records> records = records_;
    for (const std::shared_ptr<Record>& record : *records) {
        if (record->removed || event.level < record->minimum) {
            continue;
        }
        try {
            record->observer(event);
        } catch (...) {
            if (!std::exchange(record->reportedFailure, true)) {
                // NOLINTNEXTLINE(cppcoreguidelines-pro-type-vararg): cannot throw, unlike fmt::print
                std::fprintf(stderr,
                             "braid.log: log observer %llu threw (%s); it misses every event "
                             "it throws on (reported once)\n",
                             static_cast<unsigned long long>(record->id),
                             currentExceptionMessage().c_str());
            }
        }
    }
}

ObserverId LogPublisher::addLocked(LogObserver observer, LogLevel minimum) {
    auto records = std::make_shared<Records>(*records_);
    const ObserverId id = nextId_++;
    records->push_back(std::make_shared<Record>(
        Record{.id = id, .minimum = minimum, .observer = std::move(observer)}));
    records_ = std::move(records);
    updateThreshold();
    return id;
}

void LogPublisher::removeLocked(ObserverId id) {
    const auto found = std::find_if(records_->begin(), records_->end(),
                                    [id](const auto& record) { return record->id == id; });
    if (found == records_->end()) {
        return;
    }
    (*found)->removed = true;
    auto records = std::make_shared<Records>(*records_);
    records->erase(records->begin() + (found - records_->begin()));
    records_ = std::move(records);
    updateThreshold();
}

void LogPublisher::updateThreshold() {
    int threshold = noThreshold;
    for (const auto& record : *records_) {
        threshold = std::min(threshold, static_cast<int>(record->minimum));
    }
    threshold_.store(threshold, std::memory_order_relaxed);
}

LogPublisher& logPublisher() {
    static auto* const publisher = new LogPublisher(textObserver(stderr));
    return *publisher;
}

// --- formats and observers -------------------------------------------------------------------

std::string eventAsText(const LogEvent& event) {
    std::string line =
        fmt::format("{} [{}#{}] ", isoTimestamp(event.time), event.ns, levelName(event.level));
    for (char c : event.text) {
        line += c;
        if (c == '\n') {
            line += '\t';
        }
    }
    line += '\n';
    return line;
}

std::string eventAsJSON(const LogEvent& event) {
    std::string out = fmt::format(R"({{"time":{:.6f},"level":"{}","namespace":)", event.time,
                                  levelName(event.level));
    appendJsonString(out, event.ns);
    out += R"(,"text":)";
    appendJsonString(out, event.text);
    out += R"(,"format":)";
    appendJsonString(out, event.format);
    out += R"(,"fields":{)";
    for (std::size_t i = 0; i < event.fields.size(); ++i) {
        if (i > 0) {
            out += ',';
        }
        appendJsonString(out, event.fields[i].first);
        out += ':';
        appendJsonString(out, event.fields[i].second);
    }
    out += "}}";
    return out;
}

LogObserver textObserver(std::FILE* file) {
    return [file](const LogEvent& event) { writeLine(file, eventAsText(event)); };
}

LogObserver jsonObserver(std::FILE* file) {
    return [file](const LogEvent& event) { writeLine(file, eventAsJSON(event) + '\n'); };
}

// --- Logger ------------------------------------------------------------------------------------

void Logger::publish(LogLevel level, fmt::string_view format, fmt::format_args args,
                     std::vector<std::pair<std::string, std::string>> fields) const noexcept {
    try {
        LogEvent event{.level = level,
                       .ns = ns_,
                       .format = std::string(format.data(), format.size()),
                       .text = {},
                       .fields = std::move(fields),
                       .time = unixNow()};
        try {
            event.text = fmt::vformat(format, args);
        } catch (...) {
            event.text = event.format + " <formatting failed: " + currentExceptionMessage() + ">";
        }
        publisher_->publish(event);
    } catch (...) { // NOLINT(bugprone-empty-catch)
        // Out of memory while building the event: drop it rather than throw from logging.
    }
}

} // namespace braid
