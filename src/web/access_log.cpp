#include <braid/web/access_log.hpp>

#include <fmt/format.h>

#include <array>
#include <cstdint>
#include <ctime>

namespace braid::web {

namespace {

// What the client sent, made safe to put between quotes on one line.
std::string escape(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        auto byte = static_cast<unsigned char>(c);
        if (byte < 0x20 || byte >= 0x7f || c == '"' || c == '\\') {
            out += fmt::format("\\x{:02x}", byte);
        } else {
            out.push_back(c);
        }
    }
    return out;
}

std::string logTime(double timestamp) {
    auto seconds = static_cast<std::time_t>(timestamp);
    std::tm utc{};
    ::gmtime_r(&seconds, &utc);
    std::array<char, 32> text{};
    std::size_t length = std::strftime(text.data(), text.size(), "%d/%b/%Y:%H:%M:%S +0000", &utc);
    return {text.data(), length};
}

std::string clientHost(const Request& request) {
    Address client = request.getClientAddress();
    bool ip = client.family() == Address::Family::ipv4 || client.family() == Address::Family::ipv6;
    return ip ? client.host() : "-";
}

} // namespace

std::string combinedLogFormatter(double timestamp, const Request& request) {
    std::string length = request.sentLength() == 0 ? "-" : std::to_string(request.sentLength());
    return fmt::format(R"({} - - [{}] "{} {} {}" {} {} "{}" "{}")", clientHost(request),
                       logTime(timestamp), escape(request.method()), escape(request.uri()),
                       escape(request.clientproto()), request.code(), length,
                       escape(request.getHeader("Referer").value_or("-")),
                       escape(request.getHeader("User-Agent").value_or("-")));
}

} // namespace braid::web
