// client::Headers: an HTTP header list with case-insensitive names, in the order they
// came (twisted.web.http_headers.Headers), as the web client sends and receives them.
// It lives in web::client so that it cannot clash with the server's own header type.
#pragma once

#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace braid::web::client {

class Headers {
public:
    using Field = std::pair<std::string, std::string>;

    Headers() = default;
    Headers(std::initializer_list<Field> fields) : fields_(fields) {}

    // Appends one more value for `name`.
    void addRawHeader(std::string_view name, std::string_view value);
    // Replaces every value of `name` with `values`.
    void setRawHeaders(std::string_view name, const std::vector<std::string>& values);
    void removeHeader(std::string_view name);

    [[nodiscard]] bool hasHeader(std::string_view name) const;
    // Every value of `name`, in order (empty when there is none).
    [[nodiscard]] std::vector<std::string> getRawHeaders(std::string_view name) const;
    // The first value of `name`.
    [[nodiscard]] std::optional<std::string> getFirst(std::string_view name) const;
    [[nodiscard]] const std::vector<Field>& getAllRawHeaders() const noexcept { return fields_; }

private:
    std::vector<Field> fields_;
};

// ASCII case-insensitive equality, as HTTP compares header names and tokens.
bool equalsIgnoreCase(std::string_view a, std::string_view b) noexcept;

// Whether some value of the comma-separated list header `name` (Connection,
// Transfer-Encoding...) holds `token`, case-insensitively.
bool hasToken(const Headers& headers, std::string_view name, std::string_view token);

} // namespace braid::web::client
