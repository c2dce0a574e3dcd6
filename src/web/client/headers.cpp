#include <braid/web/client/headers.hpp>

#include <algorithm>

namespace braid::web::client {

bool equalsIgnoreCase(std::string_view a, std::string_view b) noexcept {
    auto lower = [](char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; };
    return std::ranges::equal(a, b, [&](char x, char y) { return lower(x) == lower(y); });
}

void Headers::addRawHeader(std::string_view name, std::string_view value) {
    fields_.emplace_back(std::string(name), std::string(value));
}

void Headers::setRawHeaders(std::string_view name, const std::vector<std::string>& values) {
    removeHeader(name);
    for (const std::string& value : values) {
        addRawHeader(name, value);
    }
}

void Headers::removeHeader(std::string_view name) {
    std::erase_if(fields_, [&](const Field& field) { return equalsIgnoreCase(field.first, name); });
}

bool Headers::hasHeader(std::string_view name) const {
    return std::any_of(fields_.begin(), fields_.end(),
                       [&](const Field& field) { return equalsIgnoreCase(field.first, name); });
}

std::vector<std::string> Headers::getRawHeaders(std::string_view name) const {
    std::vector<std::string> values;
    for (const Field& field : fields_) {
        if (equalsIgnoreCase(field.first, name)) {
            values.push_back(field.second);
        }
    }
    return values;
}

std::optional<std::string> Headers::getFirst(std::string_view name) const {
    for (const Field& field : fields_) {
        if (equalsIgnoreCase(field.first, name)) {
            return field.second;
        }
    }
    return std::nullopt;
}

bool hasToken(const Headers& headers, std::string_view name, std::string_view token) {
    for (const std::string& value : headers.getRawHeaders(name)) {
        std::string_view rest = value;
        while (!rest.empty()) {
            std::size_t comma = std::min(rest.find(','), rest.size());
            std::string_view item = rest.substr(0, comma);
            item.remove_prefix(std::min(item.find_first_not_of(" \t"), item.size()));
            item = item.substr(0, item.find_last_not_of(" \t") + 1);
            if (equalsIgnoreCase(item, token)) {
                return true;
            }
            rest.remove_prefix(std::min(comma + 1, rest.size()));
        }
    }
    return false;
}

} // namespace braid::web::client
