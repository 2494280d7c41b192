#include "mpi_error.hpp"

#include <fmt/format.h>
#include <mpi.h>

#include <dagflow/graph/errors.hpp>

namespace dagflow::mpi {

std::string error_text(int code) {
  std::string text(MPI_MAX_ERROR_STRING, '\0');
  int length = 0;
  if (MPI_Error_string(code, text.data(), &length) != MPI_SUCCESS) {
    return fmt::format("MPI error code {}", code);
  }
  text.resize(static_cast<std::size_t>(length));
  return text;
}

void check(int code, std::string_view call) {
  if (code != MPI_SUCCESS) throw Error(fmt::format("{} failed: {}", call, error_text(code)));
}

}  // namespace dagflow::mpi
