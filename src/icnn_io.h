// icnn_io.h (private) — the ICNN record of docs/FORMATS.md, written into / read from a larger binary
// stream (an ICNN file is one record plus a checksum; flow checkpoints embed several records).
#pragma once

#include "binary_io.h"
#include "wgf/icnn.h"

namespace wgf {
template <typename T>
void icnn_write(detail::BinaryWriter& w, const Icnn<T>& net);
template <typename T>
Icnn<T> icnn_read(detail::BinaryReader& rd);  // verifies the checksum that follows the record
}  // namespace wgf
