// MPI return codes turned into dagflow::Error, with MPI's own text for the code.
#pragma once

#include <string>
#include <string_view>

namespace dagflow::mpi {

/// MPI's description of an error code, e.g. "MPI_ERR_RANK: invalid rank".
[[nodiscard]] std::string error_text(int code);

/// Throws dagflow::Error("<call> failed: <error_text(code)>") unless `code` is MPI_SUCCESS.
void check(int code, std::string_view call);

}  // namespace dagflow::mpi
