#include <dagflow/engine/streaming.hpp>
// (the header this file implements first)

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <sys/stat.h>
#include <system_error>
#include <thread>
#include <unistd.h>
#include <vector>

#include <fmt/format.h>

#include <dagflow/engine/detail/streaming_impl.hpp>
#include <dagflow/engine/file.hpp>
#include <dagflow/graph/errors.hpp>
#include <dagflow/util/file_read.hpp>
#include <dagflow/util/posix_io.hpp>

#include "task_scope.hpp"
#include "worker_pool.hpp"

namespace dagflow {

namespace {

// read_lines' blocks: large enough that a 2 GB file is ~2000 cache entries and a block's lines
// are many chunks of work, small enough that twice the workers' blocks are a few MiB.
constexpr std::uint64_t kLineBlockBytes = std::uint64_t{1} << 20;
// A file modified this recently may be rewritten again within its time stamp's tick unseen: it is
// keyed by its bytes instead of its size and time stamp.
constexpr std::chrono::seconds kRecent{2};
// Where a block's end is searched for a newline, a piece at a time.
constexpr std::size_t kScanBytes = 4096;

struct Stamp {
  std::uint64_t size = 0;
  std::int64_t mtime_ns = 0;
  std::uint64_t inode = 0;
  std::uint64_t device = 0;
};

Stamp stamp_of(const struct stat& st) {
  return {static_cast<std::uint64_t>(st.st_size),
          static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec,
          static_cast<std::uint64_t>(st.st_ino), static_cast<std::uint64_t>(st.st_dev)};
}

[[noreturn]] void fail_reading(const std::filesystem::path& path, const std::string& why) {
  throw Error(fmt::format("cannot stream {}: {}", path.string(), why));
}

util::RegularFile open_source(const std::filesystem::path& path) {
  try {
    return util::open_regular_file(path);
  } catch (const util::ReadFileError& e) {
    fail_reading(path, e.what());
  }
}

Stamp stamp_of_fd(const std::filesystem::path& path, int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) fail_reading(path, util::errno_text(errno));
  return stamp_of(st);
}

// Reads exactly `length` bytes at `offset` into `out` (resized); false at an early end of file.
bool read_at(const std::filesystem::path& path, int fd, std::uint64_t offset, std::size_t length,
             std::string& out) {
  out.resize(length);
  std::size_t got = 0;
  while (got < length) {
    const ssize_t n = ::pread(fd, out.data() + got, length - got, static_cast<off_t>(offset + got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) fail_reading(path, util::errno_text(errno));
    if (n == 0) return false;
    got += static_cast<std::size_t>(n);
  }
  return true;
}

// Where the block that starts at `start` ends: just after the first newline at or past
// start + target - 1, else at the end of the file.
std::uint64_t block_end(const std::filesystem::path& path, int fd, std::uint64_t start,
                        std::uint64_t target, std::uint64_t size) {
  std::uint64_t pos = start + target - 1;
  std::string piece;
  while (pos < size) {
    const auto length = static_cast<std::size_t>(std::min<std::uint64_t>(kScanBytes, size - pos));
    if (!read_at(path, fd, pos, length, piece)) fail_reading(path, "it shrank while it was read");
    const std::size_t nl = piece.find('\n');
    if (nl != std::string::npos) return pos + nl + 1;
    pos += length;
  }
  return size;
}

// The task body of read_lines and read_chunks: the file's blocks and stamp.
struct FindBlocks {
  TextSource operator()(const TextFile& file) const {
    const util::RegularFile opened = open_source(file.path);
    const Stamp stamp = stamp_of_fd(file.path, opened.fd.get());
    TextSource source{file.path, file.chunk_bytes};
    const std::uint64_t target = file.chunk_bytes != 0 ? file.chunk_bytes : kLineBlockBytes;
    for (std::uint64_t start = 0; start < stamp.size;) {
      start = block_end(file.path, opened.fd.get(), start, target, stamp.size);
      source.ends.push_back(start);
    }
    source.size = stamp.size;
    source.mtime_ns = stamp.mtime_ns;
    source.inode = stamp.inode;
    source.device = stamp.device;
    return source;
  }
};

Delayed<TextSource> add_source(Graph& g, const char* kind, std::filesystem::path path,
                               std::uint64_t chunk_bytes) {
  std::string label = fmt::format("{}({})", kind, path.filename().string());
  // Named apart from the pipeline ops of the same names, which are other functions.
  auto task = g.delayed(dagflow::op(fmt::format("dagflow.{}", kind), FindBlocks{}),
                        TextFile{std::move(path), chunk_bytes});
  g.set_options(task, {.io = true});
  g.set_label(task, std::move(label));
  return task;
}

}  // namespace

Delayed<TextSource> read_lines(Graph& g, std::filesystem::path path) {
  return add_source(g, "read_lines", std::move(path), 0);
}

Delayed<TextSource> read_chunks(Graph& g, std::filesystem::path path, std::size_t bytes) {
  if (bytes == 0) throw std::invalid_argument("dagflow::read_chunks: bytes must be at least 1");
  return add_source(g, "read_chunks", std::move(path), bytes);
}

void Hash<TextFile>::add(Hasher& h, const TextFile& file) {
  h.add(std::string_view("dagflow-text-file")).add(file.chunk_bytes);
  struct stat st {};
  if (::stat(file.path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    h.add(std::string_view("dagflow-unreadable-file")).add(file.path.string());
    return;
  }
  const Stamp stamp = stamp_of(st);
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  const std::chrono::nanoseconds age = now - std::chrono::nanoseconds(stamp.mtime_ns);
  if (age < kRecent) {
    Hash<File>::add(h, File{file.path});
    return;
  }
  h.add(stamp.size).add(stamp.mtime_ns).add(stamp.inode).add(stamp.device);
}

void Hash<TextSource>::add(Hasher& h, const TextSource& source) {
  h.add(std::string_view("dagflow-text-source")).add(source.chunk_bytes).add(source.ends);
  h.add(source.size).add(source.mtime_ns).add(source.inode).add(source.device);
}

namespace detail {

std::size_t items_in_block(const TextSource& source, std::string_view block) {
  if (source.chunk_bytes != 0) return 1;
  const auto lines = static_cast<std::size_t>(std::count(block.begin(), block.end(), '\n'));
  return lines + (!block.empty() && block.back() != '\n' ? 1 : 0);
}

Hash128 stream_block_key(std::string_view what, const BlockCache& cache, const Hash128& salt,
                         const TextSource& source, std::string_view block) {
  Hasher h;
  h.add(what).add(cache.op_identity().low).add(cache.op_identity().high);
  h.add(salt.low).add(salt.high).add(source.chunk_bytes != 0).add(block);
  return h.digest();
}

namespace {

std::atomic<std::size_t> g_peak_blocks{0};

void note_blocks_held(std::size_t held) {
  std::size_t peak = g_peak_blocks.load(std::memory_order_relaxed);
  while (held > peak &&
         !g_peak_blocks.compare_exchange_weak(peak, held, std::memory_order_relaxed)) {
  }
}

// One stream: a reader thread fills a ring of `window` buffers in block order, at most `window`
// blocks ahead of the last one done; the pipeline's stages take them from there.
class BlockStream {
 public:
  BlockStream(const TextSource& source, std::size_t first, std::size_t last,
              const BlockCalls& calls, std::size_t window)
      : source_(source), first_(first), last_(last), calls_(calls), buffers_(window) {
    opened_ = open_source(source.path);
    const Stamp now = stamp_of_fd(source.path, opened_.fd.get());
    if (now.size != source.size || now.mtime_ns != source.mtime_ns || now.inode != source.inode ||
        now.device != source.device) {
      fail_reading(source.path, "it changed after its blocks were found");
    }
    task_ = t_current_task;
  }

  void run() {
    try {
      reader_ = std::thread([this] { read_ahead(); });
    } catch (const std::system_error&) {
      inline_reads_ = true;  // no thread to be had: the first stage reads
    }
    try {
      WorkerPool::OrderedStages stages;
      stages.items = last_ - first_;
      stages.tokens = buffers_.size();
      stages.context = this;
      stages.first = [](void* c, std::size_t i) { static_cast<BlockStream*>(c)->take(i); };
      stages.middle = [](void* c, std::size_t i) { static_cast<BlockStream*>(c)->work(i); };
      stages.last = [](void* c, std::size_t i) { static_cast<BlockStream*>(c)->finish(i); };
      started_.store(true, std::memory_order_release);  // the stream, to the stages' threads
      WorkerPool::ordered_pipeline(stages);
    } catch (...) {
      stop_reader();
      throw;
    }
    stop_reader();
    (void)done_.load(std::memory_order_acquire);  // what the last stage wrote, for the caller
  }

 private:
  std::string& buffer_of(std::size_t i) { return buffers_[i % buffers_.size()]; }

  // Reads block first_ + i into its buffer; throws when the file is not as its blocks say.
  void read(std::size_t i) {
    const std::size_t block = first_ + i;
    const std::uint64_t begin = block == 0 ? 0 : source_.ends[block - 1];
    const std::uint64_t end = source_.ends[block];
    std::string& buffer = buffer_of(i);
    if (!read_at(source_.path, opened_.fd.get(), begin, static_cast<std::size_t>(end - begin),
                 buffer) ||
        (end != source_.size && buffer.back() != '\n')) {
      fail_reading(source_.path, "it changed while it was read");
    }
  }

  void read_ahead() {
    for (std::size_t i = 0; i < last_ - first_; ++i) {
      {
        std::unique_lock lock(mutex_);
        wake_.wait(lock, [&] {
          return stopping_ || i < done_.load(std::memory_order_acquire) + buffers_.size();
        });
        if (stopping_) return;
      }
      std::exception_ptr error;
      try {
        read(i);
      } catch (...) {
        error = std::current_exception();
      }
      std::lock_guard lock(mutex_);
      if (error) {
        read_error_ = error;
      } else {
        read_.store(i + 1, std::memory_order_release);
        note_blocks_held(i + 1 - done_.load(std::memory_order_relaxed));
      }
      wake_.notify_all();
      if (error) return;
    }
  }

  // First stage: waits for block i to be read (or reads it).
  void take(std::size_t i) {
    (void)started_.load(std::memory_order_acquire);
    if (cancelled()) throw Error("the run was cancelled");
    if (inline_reads_) {
      read(i);
      read_.fetch_add(1, std::memory_order_release);  // from several threads: a release sequence
      note_blocks_held(i + 1 - done_.load(std::memory_order_relaxed));
      return;
    }
    std::unique_lock lock(mutex_);
    wake_.wait(lock, [&] { return read_error_ || read_.load(std::memory_order_acquire) > i; });
    if (read_.load(std::memory_order_acquire) <= i) std::rethrow_exception(read_error_);
  }

  // Middle stage: the block's work, as part of the task (its cancellation and block cache).
  void work(std::size_t i) {
    (void)started_.load(std::memory_order_acquire);
    (void)read_.load(std::memory_order_acquire);  // the reader's bytes
    TaskContext context;
    if (task_ != nullptr) {
      context = *task_;
      context.items = nullptr;  // counted once, by the task's own thread
      context.split = nullptr;
      context.chunks = nullptr;  // the block is reported whole, below
    }
    const auto start = std::chrono::steady_clock::now();
    {
      const TaskScope scope(context);
      calls_.work(calls_.context, first_ + i, buffer_of(i));
    }
    if (task_ != nullptr && task_->chunks != nullptr) {
      task_->chunks->report(start, std::chrono::steady_clock::now(), 1, 1, last_ - first_);
    }
    worked_.fetch_add(1, std::memory_order_release);
  }

  // Last stage: the block's result in block order; frees its buffer for the reader.
  void finish(std::size_t i) {
    (void)started_.load(std::memory_order_acquire);
    (void)worked_.load(std::memory_order_acquire);
    {
      const std::lock_guard order(done_mutex_);  // consecutive calls run on different threads
      calls_.done(calls_.context, first_ + i);
    }
    const std::lock_guard lock(mutex_);
    done_.store(i + 1, std::memory_order_release);
    wake_.notify_all();
  }

  [[nodiscard]] bool cancelled() const {
    return task_ != nullptr && task_->cancelled != nullptr &&
           task_->cancelled->load(std::memory_order_relaxed);
  }

  void stop_reader() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
      wake_.notify_all();
    }
    if (reader_.joinable()) reader_.join();
  }

  const TextSource& source_;
  std::size_t first_;
  std::size_t last_;
  const BlockCalls& calls_;
  std::vector<std::string> buffers_;
  util::RegularFile opened_;
  const TaskContext* task_ = nullptr;
  std::thread reader_;
  bool inline_reads_ = false;
  std::mutex done_mutex_;
  std::mutex mutex_;  // guards the reader's waits: done_, read_, read_error_, stopping_
  std::condition_variable wake_;
  std::atomic<bool> started_{false};
  std::atomic<std::size_t> read_{0};    // blocks read
  std::atomic<std::size_t> worked_{0};  // blocks whose work is done (publishes their results)
  std::atomic<std::size_t> done_{0};    // blocks done, in order
  std::exception_ptr read_error_;
  bool stopping_ = false;
};

}  // namespace

std::size_t take_stream_peak_blocks() noexcept {
  return g_peak_blocks.exchange(0, std::memory_order_relaxed);
}

void stream_blocks(const TextSource& source, std::size_t first, std::size_t last,
                   const BlockCalls& calls) {
  if (first >= last) return;
  const std::size_t window = std::max<std::size_t>(2, 2 * WorkerPool::current_concurrency());
  BlockStream stream(source, first, last, calls, std::min(window, last - first));
  stream.run();
}

}  // namespace detail

}  // namespace dagflow
