// The access log's line format (twisted.web.http.combinedLogFormatter): one line per
// finished request in the combined log format of Apache and nginx, for Site::accessLog.
#pragma once

#include <braid/web/request.hpp>

#include <string>

namespace braid::web {

// `client - - [10/Oct/2026:13:55:36 +0000] "GET /a HTTP/1.1" 200 2326 "referer" "agent"`,
// no newline; `timestamp` is seconds since the epoch (shown in UTC). Quotes, backslashes
// and control bytes the client sent are escaped (\x22), so a line is always one line.
std::string combinedLogFormatter(double timestamp, const Request& request);

} // namespace braid::web
