#include <braid/detail/read_file.hpp>
#include <braid/transport.hpp>

namespace braid {

std::size_t ITransport::writeFile(int fd, std::uint64_t offset, std::size_t count) {
    if (count == 0) {
        return 0;
    }
    std::string piece = detail::readFilePiece(fd, offset, count);
    write(piece);
    return piece.size();
}

} // namespace braid
