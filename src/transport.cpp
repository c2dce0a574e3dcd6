#include <braid/detail/read_file.hpp>
#include <braid/transport.hpp>

namespace braid {

std::size_t ITransport::writeFile(int fd, std::uint64_t offset, std::size_t count) {
    return detail::writeFilePiece(*this, fd, offset, count);
}

} // namespace braid
