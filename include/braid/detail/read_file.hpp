// Reading a piece of an open file, for the write-a-file paths that cannot use sendfile.
#pragma once

#include <braid/producer.hpp>

#include <cstddef>
#include <cstdint>
#include <string>

namespace braid::detail {

// The largest piece readFilePiece() returns.
inline constexpr std::size_t filePieceSize = std::size_t{64} * 1024;

// Up to min(count, filePieceSize) bytes of `fd` from `offset` (pread: the file offset is
// left alone). Throws std::system_error when the read fails or the file ends first.
std::string readFilePiece(int fd, std::uint64_t offset, std::size_t count);

// Reads such a piece and write()s it to `consumer`; returns its size (0 when count is 0).
std::size_t writeFilePiece(IConsumer& consumer, int fd, std::uint64_t offset, std::size_t count);

} // namespace braid::detail
