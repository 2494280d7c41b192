#include <cmath>
#include <cstdint>
#include <new>

#include <fmt/format.h>
#define XXH_STATIC_LINKING_ONLY  // exposes XXH3_state_t, so the state can live inside Hasher
#include <xxhash.h>

#include <dagflow/graph/hashing.hpp>

namespace dagflow {

namespace {

XXH3_state_t* state_of(unsigned char* bytes) {
  return std::launder(reinterpret_cast<XXH3_state_t*>(bytes));
}

const XXH3_state_t* state_of(const unsigned char* bytes) {
  return std::launder(reinterpret_cast<const XXH3_state_t*>(bytes));
}

Hash128 to_hash128(XXH128_hash_t h) { return Hash128{.low = h.low64, .high = h.high64}; }

}  // namespace

std::string Hash128::to_hex() const { return fmt::format("{:016x}{:016x}", high, low); }

Hasher::Hasher() noexcept {
  static_assert(sizeof(XXH3_state_t) <= kStateBytes, "Hasher::kStateBytes too small for xxHash");
  static_assert(alignof(XXH3_state_t) <= kStateAlign, "Hasher::kStateAlign too small for xxHash");
  XXH3_128bits_reset(::new (state_) XXH3_state_t);
}

Hasher::Hasher(const Hasher& other) noexcept {
  XXH3_copyState(::new (state_) XXH3_state_t, state_of(other.state_));
}

Hasher& Hasher::operator=(const Hasher& other) noexcept {
  if (this != &other) XXH3_copyState(state_of(state_), state_of(other.state_));
  return *this;
}

void Hasher::update(const void* data, std::size_t size) noexcept {
  // Fails only for a null state or null data with a non-zero size: both are caller bugs.
  XXH3_128bits_update(state_of(state_), data, size);
}

Hash128 Hasher::digest() const noexcept {
  return to_hash128(XXH3_128bits_digest(state_of(state_)));
}

Hash128 hash_bytes(const void* data, std::size_t size) noexcept {
  return to_hash128(XXH3_128bits(data, size));
}

std::uint64_t hash64_bytes(const void* data, std::size_t size) noexcept {
  return XXH3_64bits(data, size);
}

namespace detail {

void add_long_double(Hasher& h, long double v) noexcept {
  // A kind byte (0 finite, 1 infinite, 2 NaN), then sign, exponent and the mantissa as two
  // 64-bit halves, which is exact for mantissas up to 128 bits.
  if (std::isnan(v)) {
    h.add(std::uint8_t{2});
    return;
  }
  const bool negative = std::signbit(v) && v != 0;  // -0.0 hashes as 0.0
  if (std::isinf(v)) {
    h.add(std::uint8_t{1}).add(negative);
    return;
  }
  int exponent = 0;
  const long double scaled = std::ldexp(std::frexp(std::fabs(v), &exponent), 64);  // [2^63, 2^64)
  const long double top = std::floor(scaled);
  h.add(std::uint8_t{0}).add(negative).add(exponent);
  h.add(static_cast<std::uint64_t>(top))
      .add(static_cast<std::uint64_t>(std::ldexp(scaled - top, 64)));
}

}  // namespace detail

}  // namespace dagflow
