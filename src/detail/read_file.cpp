#include <braid/detail/read_file.hpp>

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <system_error>

namespace braid::detail {

std::string readFilePiece(int fd, std::uint64_t offset, std::size_t count) {
    std::string piece(std::min(count, filePieceSize), '\0');
    ssize_t got;
    do {
        got = ::pread(fd, piece.data(), piece.size(), static_cast<off_t>(offset));
    } while (got < 0 && errno == EINTR);
    if (got < 0) {
        throw std::system_error(errno, std::generic_category(), "reading a file to send");
    }
    if (got == 0 && !piece.empty()) {
        throw std::system_error(std::make_error_code(std::errc::io_error),
                                "the file to send ended early");
    }
    piece.resize(static_cast<std::size_t>(got));
    return piece;
}

std::size_t writeFilePiece(IConsumer& consumer, int fd, std::uint64_t offset, std::size_t count) {
    if (count == 0) {
        return 0;
    }
    std::string piece = readFilePiece(fd, offset, count);
    consumer.write(piece);
    return piece.size();
}

} // namespace braid::detail
