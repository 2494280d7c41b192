#include "run_record.hpp"
// (the header this file implements first)
#include <algorithm>
#include <cerrno>
#include <fcntl.h>
#include <set>
#include <sys/stat.h>
#include <system_error>

#include <dagflow/pipeline/records.hpp>
#include <dagflow/util/atomic_write.hpp>
#include <dagflow/util/file_read.hpp>
#include <dagflow/util/unique_fd.hpp>

namespace dagflow::detail {

namespace fs = std::filesystem;

namespace {

// Records are small (a few hundred bytes per node); a bigger file is not one of ours.
constexpr std::uint64_t kMaxRecordBytes = std::uint64_t{256} << 20;
constexpr std::int64_t kFormat = 1;

Value hex_of(const std::optional<Hash128>& h) { return h ? Value(h->to_hex()) : Value(); }

Value::List hexes(const std::vector<Hash128>& hashes) {
  Value::List out;
  out.reserve(hashes.size());
  for (const Hash128& h : hashes) out.emplace_back(h.to_hex());
  return out;
}

Value to_value(const RecordedOutput& o) {
  Value::Map m{{"path", o.path.string()},
               {"shown", o.shown},
               {"hash", o.hash.to_hex()},
               {"size", static_cast<std::int64_t>(o.size)},
               {"mtime_ns", o.mtime_ns}};
  if (o.bytes_key) m.emplace("bytes", o.bytes_key->to_hex());
  if (o.block) m.emplace("block", o.block->to_hex());
  return m;
}

Value to_value(const RecordedNode& n) {
  Value::List inputs;
  for (const auto& [id, key] : n.inputs) inputs.emplace_back(Value::List{id, hex_of(key)});
  Value::List items;
  for (const auto& [shown, hash] : n.items) items.emplace_back(Value::List{shown, hash.to_hex()});
  Value::List outputs;
  for (const RecordedOutput& o : n.outputs) outputs.push_back(to_value(o));
  return Value::Map{{"op", n.op},
                    {"version", static_cast<std::int64_t>(n.version)},
                    {"args", n.args},
                    {"key", hex_of(n.key)},
                    {"inputs", std::move(inputs)},
                    {"input_hashes", hexes(n.input_hashes)},
                    {"result", hex_of(n.result)},
                    {"items", std::move(items)},
                    {"blocks", hexes(n.blocks)},
                    {"outputs", std::move(outputs)}};
}

// Reading: a field of the wrong shape throws ValueError (through Value's accessors), which makes
// the whole record unreadable: a half-understood record could explain or cut off wrongly.
const Value& field(const Value::Map& m, std::string_view name) {
  static const Value kNull;
  auto it = m.find(std::string(name));
  return it == m.end() ? kNull : it->second;
}

std::optional<Hash128> optional_hash(const Value& v) {
  if (v.is_null()) return std::nullopt;
  std::optional<Hash128> h = hash_from_hex(v.as_string());
  if (!h) throw ValueError("a hash is not 32 hex digits");
  return h;
}

Hash128 hash_of(const Value& v) {
  std::optional<Hash128> h = optional_hash(v);
  if (!h) throw ValueError("a hash is missing");
  return *h;
}

std::vector<Hash128> hashes_of(const Value& v) {
  std::vector<Hash128> out;
  if (v.is_null()) return out;
  for (const Value& x : v.as_list()) out.push_back(hash_of(x));
  return out;
}

RecordedOutput output_of(const Value& v) {
  const Value::Map& m = v.as_map();
  return {.path = field(m, "path").as_string(),
          .shown = field(m, "shown").as_string(),
          .hash = hash_of(field(m, "hash")),
          .size = static_cast<std::uint64_t>(field(m, "size").as_int()),
          .mtime_ns = field(m, "mtime_ns").as_int(),
          .bytes_key = optional_hash(field(m, "bytes")),
          .block = optional_hash(field(m, "block"))};
}

RecordedNode node_of(const Value& v) {
  const Value::Map& m = v.as_map();
  RecordedNode n;
  n.op = field(m, "op").as_string();
  n.version = static_cast<std::uint32_t>(field(m, "version").as_int());
  n.args = field(m, "args").as_map();
  n.key = optional_hash(field(m, "key"));
  for (const Value& in : field(m, "inputs").as_list()) {
    const Value::List& pair = in.as_list();
    n.inputs.emplace_back(pair.at(0).as_string(), optional_hash(pair.at(1)));
  }
  n.input_hashes = hashes_of(field(m, "input_hashes"));
  n.result = optional_hash(field(m, "result"));
  for (const Value& item : field(m, "items").as_list()) {
    const Value::List& pair = item.as_list();
    n.items.emplace_back(pair.at(0).as_string(), hash_of(pair.at(1)));
  }
  n.blocks = hashes_of(field(m, "blocks"));
  for (const Value& o : field(m, "outputs").as_list()) n.outputs.push_back(output_of(o));
  return n;
}

RunRecord record_of(const Value& v) {
  const Value::Map& m = v.as_map();
  if (field(m, "format").as_int() != kFormat) throw ValueError("an unknown record format");
  RunRecord record;
  record.pipeline = field(m, "pipeline").as_string();
  for (const auto& [id, node] : field(m, "nodes").as_map()) record.nodes.emplace(id, node_of(node));
  return record;
}

}  // namespace

std::vector<Hash128> RecordedNode::entries() const {
  std::vector<Hash128> out;
  if (key) out.push_back(*key);
  out.insert(out.end(), blocks.begin(), blocks.end());
  for (const RecordedOutput& o : outputs) {
    if (o.bytes_key) out.push_back(*o.bytes_key);
  }
  return out;
}

std::vector<Hash128> RunRecord::entries() const {
  std::vector<Hash128> out;
  for (const auto& [id, node] : nodes) {
    const std::vector<Hash128> own = node.entries();
    out.insert(out.end(), own.begin(), own.end());
  }
  return out;
}

std::optional<Hash128> hash_from_hex(std::string_view hex) {
  if (hex.size() != 32) return std::nullopt;
  std::uint64_t parts[2] = {0, 0};
  for (std::size_t i = 0; i < 32; ++i) {
    const auto c = static_cast<unsigned char>(hex[i]);
    std::uint64_t digit = 0;
    if (c >= '0' && c <= '9') {
      digit = c - std::uint64_t{'0'};
    } else if (c >= 'a' && c <= 'f') {
      digit = c - std::uint64_t{'a'} + 10;
    } else {
      return std::nullopt;
    }
    parts[i / 16] = (parts[i / 16] << 4U) | digit;
  }
  return Hash128{.low = parts[1], .high = parts[0]};  // to_hex writes high first
}

fs::path records_dir(const fs::path& cache_dir) { return cache_dir / "records"; }

fs::path record_path(const fs::path& cache_dir, const fs::path& pipeline_file) {
  Hasher h;
  h.add(std::string_view("dagflow-record")).add(pipeline_file.string());
  return records_dir(cache_dir) / (h.digest().to_hex() + ".json");
}

std::optional<std::string> read_record_text(const fs::path& path, std::string& problem) {
  try {
    return util::read_regular_file(path, kMaxRecordBytes);
  } catch (const util::ReadFileError& e) {
    std::error_code ec;
    if (fs::exists(fs::symlink_status(path, ec))) problem = e.what();
    return std::nullopt;
  }
}

std::optional<RunRecord> parse_record(std::string_view text, std::string& problem) {
  try {
    return record_of(from_json(text));
  } catch (const std::exception& e) {  // ValueError, std::out_of_range of at()
    problem = std::string(e.what());
    return std::nullopt;
  }
}

std::optional<RunRecord> read_record(const fs::path& path, std::string& problem) {
  const std::optional<std::string> text = read_record_text(path, problem);
  if (!text) return std::nullopt;
  return parse_record(*text, problem);
}

std::vector<RunRecord> read_all_records(const fs::path& cache_dir) {
  std::vector<RunRecord> records;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(records_dir(cache_dir), ec)) {
    if (entry.path().extension() != ".json") continue;
    std::string problem;
    if (auto record = read_record(entry.path(), problem)) records.push_back(std::move(*record));
  }
  return records;
}

void write_record(const fs::path& path, const RunRecord& record, bool durable) {
  Value::Map nodes;
  for (const auto& [id, node] : record.nodes) nodes.emplace(id, to_value(node));
  const Value doc =
      Value::Map{{"format", kFormat}, {"pipeline", record.pipeline}, {"nodes", std::move(nodes)}};
  const fs::path dir = path.parent_path();
  if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
    throw std::system_error(errno, std::generic_category(), "creating " + dir.string());
  }
  const util::UniqueFd dir_fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW));
  if (dir_fd.get() < 0) {
    throw std::system_error(errno, std::generic_category(), "opening " + dir.string());
  }
  // A run killed while writing its record leaves a temp file here; nothing else ever looks in
  // this directory for them, so each record written sweeps those of dead writers.
  (void)util::remove_dead_writers_temps(dir_fd.get(), util::AtomicWriteOptions{}.temp_prefix);
  util::write_file_atomically_at(dir_fd.get(), path.filename().string(), to_json(doc) + "\n",
                                 {.mode = 0600, .durable = durable});
}

}  // namespace dagflow::detail

namespace dagflow {

namespace {

struct HashLess {
  bool operator()(const Hash128& a, const Hash128& b) const noexcept {
    return a.high != b.high ? a.high < b.high : a.low < b.low;
  }
};
using HashSet = std::set<Hash128, HashLess>;

// The entries named by every record in the cache but the one at `own`.
HashSet named_by_others(const std::filesystem::path& cache_dir, const std::string& own) {
  HashSet others;
  for (const detail::RunRecord& r : detail::read_all_records(cache_dir)) {
    if (r.pipeline == own) continue;
    for (const Hash128& k : r.entries()) others.insert(k);
  }
  return others;
}

}  // namespace

std::filesystem::path pipeline_record_name(const std::filesystem::path& file) {
  return (std::filesystem::absolute(file)).lexically_normal();
}

PipelineCacheUse pipeline_cache_use(const DiskCache& cache,
                                    const std::filesystem::path& pipeline_file) {
  PipelineCacheUse use;
  const std::filesystem::path name = pipeline_record_name(pipeline_file);
  use.record = detail::record_path(cache.path(), name);
  std::string problem;
  const std::optional<detail::RunRecord> record = detail::read_record(use.record, problem);
  if (!record) return use;
  use.recorded = true;
  for (const auto& [id, node] : record->nodes) {
    const std::vector<Hash128> entries = node.entries();
    use.nodes.push_back({.id = id,
                         .op = node.op,
                         .cached = node.key && cache.contains(*node.key),
                         .entries = cache.stats(entries)});
  }
  const HashSet all = [&] {
    const std::vector<Hash128> e = record->entries();
    return HashSet(e.begin(), e.end());
  }();
  const HashSet others = named_by_others(cache.path(), name.string());
  std::vector<Hash128> mine(all.begin(), all.end());
  std::vector<Hash128> shared;
  std::copy_if(mine.begin(), mine.end(), std::back_inserter(shared),
               [&](const Hash128& k) { return others.contains(k); });
  use.entries = cache.stats(mine);
  use.shared = cache.stats(shared);
  return use;
}

CacheStats clear_pipeline_cache(DiskCache& cache, const std::filesystem::path& pipeline_file) {
  const std::filesystem::path name = pipeline_record_name(pipeline_file);
  const std::filesystem::path path = detail::record_path(cache.path(), name);
  std::string problem;
  const std::optional<detail::RunRecord> record = detail::read_record(path, problem);
  if (!record) return {};
  const HashSet others = named_by_others(cache.path(), name.string());
  std::vector<Hash128> removable;
  for (const Hash128& k : record->entries()) {
    if (!others.contains(k)) removable.push_back(k);
  }
  std::sort(removable.begin(), removable.end(), HashLess{});
  removable.erase(std::unique(removable.begin(), removable.end()), removable.end());
  const CacheStats removed = cache.stats(removable);
  (void)cache.erase(removable);
  std::error_code ec;
  std::filesystem::remove(path, ec);
  return removed;
}

}  // namespace dagflow
