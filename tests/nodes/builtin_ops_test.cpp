#include <dagflow/nodes/op_registry.hpp>

// The built-in text, number, CSV and image ops, called through OpRegistry::builtins() as a
// pipeline calls them, with exact expected values.
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <initializer_list>
#include <limits>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <catch2/catch.hpp>

#include <dagflow/engine/chunking.hpp>
#include <dagflow/engine/executor.hpp>
#include <dagflow/engine/streaming.hpp>
#include <dagflow/graph/errors.hpp>
#include <dagflow/nodes/value.hpp>

#include "support/files.hpp"
#include "support/ops.hpp"
#include "support/temp_dir.hpp"
#include "support/text.hpp"

namespace {

namespace fs = std::filesystem;
using Catch::Matchers::Contains;
using dagflow::OpContext;
using dagflow::OpRegistry;
using dagflow::Value;
using dagflow::test::builtin_ops;
using dagflow::test::call_op;
using dagflow::test::read_file;
using dagflow::test::TempDir;
using dagflow::test::thrown_message;
using dagflow::test::write_file;

constexpr std::int64_t kMax = std::numeric_limits<std::int64_t>::max();

// Pinned outputs of the generator behind random_uniform and pi_hits: they must never change.
// (Computed independently from the xoshiro256** and splitmix64 definitions.)
constexpr double kGoldenSeed1First = 0x1.a46fd3e47229cp-1;   // 0.8211656776776013
constexpr double kGoldenSeed1Second = 0x1.99ca7d6747c54p-2;  // 0.4001865000045133
constexpr std::int64_t kGoldenHitsSeed7 = 156891;            // of 200000 samples

std::string bytes(std::initializer_list<int> values) {
  std::string out;
  for (const int v : values) out.push_back(static_cast<char>(v));
  return out;
}

Value pair(std::string word, std::int64_t count) { return Value::List{std::move(word), count}; }

}  // namespace

// `dagflow ops` and the loader rely on each built-in op's doc, probe, side-effect and
// command flags, and on its input types.
TEST_CASE("OpRegistry::builtins: every op has a doc string and the expected flags",
          "[nodes][ops][registry]") {
  const OpRegistry& ops = builtin_ops();
  for (const std::string_view name :
       {"read_text",    "read_lines",     "read_chunks",  "lines",       "word_count",
        "merge_counts", "top_k",          "range",        "square",      "sum",
        "mean",         "random_uniform", "pi_hits",      "glob",        "read_json",
        "write_json",   "write_text",     "read_csv",     "write_csv",   "rollup",
        "concat",       "make_image",     "image_filter", "image_stats", "shell"}) {
    const dagflow::OpInfo* op = ops.find(name);
    INFO(name);
    REQUIRE(op != nullptr);
    CHECK(op->doc().size() > 20);
  }
  CHECK(ops.find("glob")->is_probe());
  CHECK_FALSE(ops.find("read_text")->is_probe());
  // Writers are cached and their files tracked; only running a command always runs.
  for (const std::string_view writer :
       {"write_json", "write_text", "write_csv", "make_image", "image_filter"}) {
    INFO(writer);
    CHECK(ops.find(writer)->writes_files());
    CHECK_FALSE(ops.find(writer)->has_side_effects());
  }
  CHECK(ops.find("write_json")->keeps_file_bytes());
  CHECK_FALSE(ops.find("image_filter")->keeps_file_bytes());  // images are rewritten instead
  // shell: side effects (never cached) unless a node declares its outputs, then a writer that
  // keeps no bytes of them; any number of inputs.
  const dagflow::OpInfo& shell = *ops.find("shell");
  const Value::Map without{{"outputs", Value()}};
  const Value::Map with{{"outputs", Value::List{}}};
  CHECK(shell.writer_arg() == "outputs");
  CHECK(shell.has_side_effects(without));
  CHECK_FALSE(shell.writes_files(without));
  CHECK_FALSE(shell.has_side_effects(with));
  CHECK(shell.writes_files(with));
  CHECK_FALSE(shell.keeps_file_bytes());
  CHECK(shell.takes_any_inputs());
  CHECK(shell.node_check() != nullptr);
  CHECK_FALSE(ops.find("word_count")->has_side_effects());
  CHECK_FALSE(ops.find("word_count")->writes_files());
  CHECK(ops.find("shell")->runs_commands());
  CHECK_FALSE(ops.find("write_json")->runs_commands());
  CHECK(ops.find("write_json")->args().at(0).is_output_path);
  CHECK(ops.find("word_count")->inputs() == std::vector<std::string>{"string or path"});
  CHECK(ops.find("sum")->inputs() == std::vector<std::string>{"list of number"});
}

// ---- text ------------------------------------------------------------------------------------

// read_text is byte-exact (NULs included) and its errors name the file as the pipeline wrote it.
TEST_CASE("read_text: returns the whole file and names the file it cannot read", "[nodes][ops]") {
  TempDir dir;
  write_file(dir.path() / "a.txt", std::string("line 1\nline 2\0end", 17));
  const OpContext ctx{.base_dir = dir.path()};
  CHECK(call_op("read_text", {"a.txt"}, {}, ctx) == Value(std::string("line 1\nline 2\0end", 17)));
  CHECK(call_op("read_text", {Value::path(dir.path() / "a.txt", "a.txt")}) ==
        Value(std::string("line 1\nline 2\0end", 17)));
  CHECK_THROWS_WITH(call_op("read_text", {"missing.txt"}, {}, ctx),
                    "cannot read 'missing.txt': No such file or directory");
  fs::create_directory(dir.path() / "sub");
  CHECK_THROWS_WITH(call_op("read_text", {"sub"}, {}, ctx), "cannot read 'sub': Is a directory");
  CHECK_THROWS_AS(call_op("read_text", {3}, {}, ctx), dagflow::ValueError);
}

// The materialised forms of read_lines and read_chunks give the items their streamed forms
// (dagflow::read_lines, read_chunks) give; `bytes` takes an int or a size with a binary unit.
TEST_CASE("read_lines and read_chunks: the items of the streamed sources, sizes with units",
          "[nodes][ops]") {
  TempDir dir;
  std::string text;
  for (int i = 0; i < 3000; ++i) text += std::to_string(i * 7919) + (i % 9 == 0 ? "\r\n" : "\n");
  text += "no newline at the end";
  write_file(dir.path() / "t.txt", text);
  const OpContext ctx{.base_dir = dir.path()};
  const auto streamed = [](dagflow::Graph& g, const dagflow::Delayed<dagflow::TextSource>& source) {
    Value::List items;
    for (std::string& s : dagflow::Executor({.threads = 2})
                              .compute(dagflow::map(
                                  g, [](std::string_view s) { return std::string(s); }, source))) {
      items.emplace_back(std::move(s));
    }
    return Value(std::move(items));
  };
  const Value::Map path{{"path", "t.txt"}};
  const dagflow::OpRegistry& ops = dagflow::OpRegistry::builtins();
  REQUIRE(ops.find("read_lines")->stream_source() != nullptr);
  REQUIRE(ops.find("read_chunks")->stream_source() != nullptr);
  const Value lines = call_op("read_lines", {}, path, ctx);
  CHECK(lines.as_list().size() == 3001);
  {
    dagflow::Graph g;
    CHECK(lines == streamed(g, ops.find("read_lines")->stream_source()(g, ctx, path)));
  }
  for (const Value& bytes : {Value(100), Value("1K"), Value("1KiB"), Value("100B")}) {
    INFO(to_json(bytes));
    Value::Map args = path;
    args["bytes"] = bytes;
    const Value chunks = call_op("read_chunks", {}, args, ctx);
    CHECK(chunks.as_list().size() > 10);
    dagflow::Graph g;
    CHECK(chunks == streamed(g, ops.find("read_chunks")->stream_source()(g, ctx, args)));
  }
  for (const Value& bad : {Value(0), Value("4X"), Value("M"), Value("-3"), Value(1.5)}) {
    INFO(to_json(bad));
    CHECK_THROWS(call_op("read_chunks", {}, {{"path", "t.txt"}, {"bytes", bad}}, ctx));
  }
  CHECK(call_op("read_chunks", {}, {{"path", "t.txt"}, {"bytes", "4M"}}, ctx) ==
        Value(Value::List{text}));
}

// Text from Windows and Unix files splits into the same lines.
TEST_CASE("lines: splits on newlines and drops a trailing carriage return", "[nodes][ops]") {
  CHECK(call_op("lines", {"a\r\nb\n"}) == Value(Value::List{"a", "b"}));
  CHECK(call_op("lines", {""}) == Value(Value::List{}));
  CHECK(call_op("lines", {"x"}) == Value(Value::List{"x"}));
  CHECK(call_op("lines", {"\n"}) == Value(Value::List{""}));
  CHECK(call_op("lines", {"a\n\nb"}) == Value(Value::List{"a", "", "b"}));
  CHECK(call_op("lines", {"a\rb\r\n\r\n"}) == Value(Value::List{"a\rb", ""}));
}

// The op counts words as count_words does, from a string or from a file path.
TEST_CASE("word_count: counts lowercased runs of ASCII letters and digits", "[nodes][ops]") {
  CHECK(call_op("word_count", {"Hello, hello WORLD! x2y"}) ==
        Value(Value::Map{{"hello", 2}, {"world", 1}, {"x2y", 1}}));
  CHECK(call_op("word_count", {""}) == Value(Value::Map{}));
  CHECK(call_op("word_count", {"  ...  "}) == Value(Value::Map{}));
  // Bytes of UTF-8 sequences separate words; underscores and apostrophes too.
  CHECK(call_op("word_count", {"caf\xC3\xA9s don't snake_case 42"}) ==
        Value(Value::Map{
            {"caf", 1}, {"s", 1}, {"don", 1}, {"t", 1}, {"snake", 1}, {"case", 1}, {"42", 1}}));

  TempDir dir;
  write_file(dir.path() / "t.txt", "The cat and THE hat\n");
  const Value counts = call_op("word_count", {Value::path(dir.path() / "t.txt", "t.txt")});
  CHECK(counts == Value(Value::Map{{"the", 2}, {"cat", 1}, {"and", 1}, {"hat", 1}}));
  CHECK_THROWS_WITH(call_op("word_count", {Value::path(dir.path() / "no.txt", "no.txt")}),
                    "cannot read 'no.txt': No such file or directory");
  CHECK_THROWS_AS(call_op("word_count", {Value::List{}}), dagflow::ValueError);
}

// Merged counts are exact; a total past int64 is an error, never a wrapped number.
TEST_CASE("merge_counts: adds counts and refuses an overflowing total", "[nodes][ops]") {
  CHECK(call_op("merge_counts", {Value::List{Value::Map{{"a", 1}, {"b", 2}},
                                             Value::Map{{"b", 3}, {"c", 1}}, Value::Map{}}}) ==
        Value(Value::Map{{"a", 1}, {"b", 5}, {"c", 1}}));
  CHECK(call_op("merge_counts", {Value::List{}}) == Value(Value::Map{}));
  CHECK_THROWS_WITH(
      call_op("merge_counts", {Value::List{Value::Map{{"big", kMax}}, Value::Map{{"big", 1}}}}),
      Contains("'big'") && Contains("overflows"));
}

// top_k's order is total (ties by word), so a pipeline's output never depends on hashing.
TEST_CASE("top_k: sorts by count descending, then word ascending, and keeps at most k",
          "[nodes][ops]") {
  const Value counts = Value::Map{{"b", 2}, {"a", 2}, {"c", 5}, {"d", 1}, {"B", 2}};
  CHECK(call_op("top_k", {counts}, {{"k", 3}}) ==
        Value(Value::List{pair("c", 5), pair("B", 2), pair("a", 2)}));
  CHECK(call_op("top_k", {counts}, {{"k", 10}}) ==
        Value(Value::List{pair("c", 5), pair("B", 2), pair("a", 2), pair("b", 2), pair("d", 1)}));
  CHECK(call_op("top_k", {counts}, {{"k", 0}}) == Value(Value::List{}));
  CHECK(call_op("top_k", {Value::Map{}}, {{"k", 2}}) == Value(Value::List{}));
  CHECK_THROWS_WITH(call_op("top_k", {counts}, {{"k", -1}}), "k must be at least 0, got -1");
  CHECK_THROWS_AS(call_op("top_k", {counts}), std::invalid_argument);  // k is required
}

// ---- numbers ---------------------------------------------------------------------------------

// range follows Python's rules for every sign of step, up to the ends of int64, and refuses
// step 0 and lists over its limit.
TEST_CASE("range: behaves like Python's range", "[nodes][ops]") {
  using L = Value::List;
  CHECK(call_op("range", {}, {{"start", 5}, {"stop", 0}, {"step", -2}}) == Value(L{5, 3, 1}));
  CHECK(call_op("range", {}, {{"stop", 3}}) == Value(L{0, 1, 2}));
  CHECK(call_op("range", {}, {{"start", 0}, {"stop", 10}, {"step", 3}}) == Value(L{0, 3, 6, 9}));
  CHECK(call_op("range", {}, {{"start", -2}, {"stop", 2}}) == Value(L{-2, -1, 0, 1}));
  CHECK(call_op("range", {}, {{"start", 3}, {"stop", 3}}) == Value(L{}));
  CHECK(call_op("range", {}, {{"start", 0}, {"stop", 5}, {"step", -1}}) == Value(L{}));
  CHECK(call_op("range", {}, {{"start", 5}, {"stop", 0}}) == Value(L{}));
  // The ends of int64 do not overflow.
  CHECK(call_op("range", {}, {{"start", kMax - 2}, {"stop", kMax}}) ==
        Value(L{kMax - 2, kMax - 1}));
  CHECK(call_op("range", {}, {{"start", kMax}, {"stop", -kMax - 1}, {"step", -kMax}}) ==
        Value(L{kMax, 0, -kMax}));
  CHECK_THROWS_WITH(call_op("range", {}, {{"stop", 3}, {"step", 0}}),
                    Contains("step must not be 0"));
  CHECK_THROWS_WITH(call_op("range", {}, {{"stop", 200'000'000}}), Contains("limit"));
  CHECK_THROWS_WITH(call_op("range", {}, {{"start", -kMax - 1}, {"stop", kMax}}),
                    Contains("limit"));
}

// square never changes a number's kind and never wraps.
TEST_CASE("square: keeps ints ints and doubles doubles, and refuses overflow", "[nodes][ops]") {
  CHECK(call_op("square", {7}) == Value(49));
  CHECK(call_op("square", {-3}) == Value(9));
  CHECK(call_op("square", {1.5}) == Value(2.25));
  CHECK(call_op("square", {3037000499}) == Value(std::int64_t{9223372030926249001}));
  CHECK_THROWS_WITH(call_op("square", {3037000500}), "int64 overflow in square(3037000500)");
  CHECK_THROWS_AS(call_op("square", {"x"}), dagflow::ValueError);
}

// sum stays an exact int unless a double is present; int64 overflow is an error.
TEST_CASE("sum: is exact for ints, a double when any element is one", "[nodes][ops]") {
  CHECK(call_op("sum", {Value::List{1, 2, 3}}) == Value(6));
  CHECK(call_op("sum", {Value::List{1, 2.5}}) == Value(3.5));
  CHECK(call_op("sum", {Value::List{}}) == Value(0));
  CHECK(call_op("sum", {Value::List{kMax, -1, 1}}) == Value(kMax));
  CHECK_THROWS_WITH(call_op("sum", {Value::List{kMax, 1}}), Contains("int64 overflow"));
  CHECK_THROWS_AS(call_op("sum", {Value::List{1, "2"}}), dagflow::ValueError);
}

// sum's `as: double` adds ints as doubles, past where an int64 total overflows; doubles are
// added with compensation, so cancellation keeps the small terms.
TEST_CASE("sum: as double, typed arrays, and compensated double totals", "[nodes][ops][array]") {
  const Value big = Value::int_array({kMax, kMax});
  CHECK_THROWS_WITH(call_op("sum", {big}),
                    Contains("int64 overflow in sum") && Contains("as: double"));
  CHECK(call_op("sum", {big}, {{"as", "double"}}) == Value(2.0 * static_cast<double>(kMax)));
  // Ints are added exactly, then rounded once: 2^53 + 1 + 1 is 2^53 + 2, in either form (added
  // as doubles one by one, each +1 would round away).
  const std::int64_t two53 = std::int64_t{1} << 53;
  CHECK(call_op("sum", {Value::int_array({two53, 1, 1})}, {{"as", "double"}}) ==
        Value(static_cast<double>(two53 + 2)));
  CHECK(call_op("sum", {Value::List{two53, 1, 1}}, {{"as", "double"}}) ==
        Value(static_cast<double>(two53 + 2)));
  CHECK(call_op("sum", {Value::List{1, 2}}, {{"as", "double"}}) == Value(3.0));
  CHECK(call_op("sum", {Value::List{1, 2}}, {{"as", "auto"}}) == Value(3));
  CHECK(call_op("sum", {Value::int_array({1, 2, 3})}) == Value(6));
  CHECK(call_op("sum", {Value::int_array({})}) == Value(0));
  CHECK(call_op("sum", {Value::double_array({0.5, 0.25})}) == Value(0.75));
  // Naive left-to-right addition gives 0 for both: the 1.0 is lost against 1e16.
  CHECK(call_op("sum", {Value::double_array({1e16, 1.0, -1e16})}) == Value(1.0));
  CHECK(call_op("sum", {Value::List{1e16, 1, -1e16}}) == Value(1.0));
  CHECK(call_op("mean", {Value::int_array({1, 2})}) == Value(1.5));
  CHECK(call_op("mean", {Value::double_array({1e16, 1.0, -1e16})}) == Value(1.0 / 3.0));
  CHECK_THROWS_WITH(call_op("sum", {Value::List{1, "2"}}),
                    "expected list of number, got list with a string at [1]");

  // `as` other than auto or double is refused when the pipeline loads.
  const dagflow::OpInfo& sum = *builtin_ops().find("sum");
  REQUIRE(sum.node_check() != nullptr);
  CHECK_FALSE(sum.node_check()({}, {{"as", "double"}}, {.inputs = 1}).has_value());
  CHECK_FALSE(sum.node_check()({}, {}, {.inputs = 1}).has_value());
  const auto problem = sum.node_check()({}, {{"as", "float"}}, {.inputs = 1});
  REQUIRE(problem.has_value());
  CHECK(problem->arg == "as");
  CHECK(problem->message == "must be auto or double, got 'float'");
}

// square's array form gives what square gives element by element, and names the element that
// overflows.
TEST_CASE("square: maps a typed array in one pass", "[nodes][ops][array]") {
  const dagflow::OpInfo& square = *builtin_ops().find("square");
  REQUIRE(square.array_map() != nullptr);
  const Value ints = Value::int_array({-3, 0, 3037000499});
  const Value squares = square.array_map()(ints, {});
  REQUIRE(squares.ints() != nullptr);
  for (std::size_t i = 0; i < ints.list_size(); ++i) {
    CHECK(squares.as_list()[i] == call_op("square", {ints.as_list()[i]}));
  }
  const Value doubles = square.array_map()(Value::double_array({1.5, -0.5}), {});
  CHECK(doubles == Value::double_array({2.25, 0.25}));
  try {
    (void)square.array_map()(Value::int_array({1, 2, 3037000500}), {});
    FAIL("expected an ItemError");
  } catch (const dagflow::ItemError& e) {
    CHECK(e.index() == 2);
    CHECK(std::string(e.what()) == "int64 overflow in square(3037000500)");
  }
  // range makes a typed array.
  CHECK(call_op("range", {}, {{"stop", 3}}).ints() != nullptr);
}

// mean always returns a double and has no value for an empty list.
TEST_CASE("mean: is a double and refuses an empty list", "[nodes][ops]") {
  CHECK(call_op("mean", {Value::List{1, 2}}) == Value(1.5));
  CHECK(call_op("mean", {Value::List{4}}) == Value(4.0));
  CHECK_THROWS_WITH(call_op("mean", {Value::List{}}), "mean of an empty list");
}

// The op draws what random_uniform does: in range, pinned values, a prefix for a shorter count,
// scaled to [low, high), and refused arguments.
TEST_CASE("random_uniform: draws reproducibly from seed and stream", "[nodes][ops]") {
  const Value a = call_op("random_uniform", {0}, {{"seed", 1}, {"count", 1000}});
  REQUIRE(a.as_list().size() == 1000);
  double total = 0;
  for (const Value& x : a.as_list()) {
    REQUIRE(x.kind() == dagflow::ValueKind::kDouble);
    CHECK(x.as_double() >= 0.0);
    CHECK(x.as_double() < 1.0);
    total += x.as_double();
  }
  CHECK(std::fabs(total / 1000 - 0.5) < 0.05);
  CHECK(call_op("random_uniform", {0}, {{"seed", 1}, {"count", 1000}}) == a);
  CHECK(call_op("random_uniform", {1}, {{"seed", 1}, {"count", 1000}}) != a);
  CHECK(call_op("random_uniform", {0}, {{"seed", 2}, {"count", 1000}}) != a);
  // A shorter run is a prefix of a longer one.
  const Value head = call_op("random_uniform", {0}, {{"seed", 1}, {"count", 3}});
  CHECK(head == Value(Value::List(a.as_list().begin(), a.as_list().begin() + 3)));
  // Pinned: the generator is our own, so these never change with the platform or library.
  CHECK(head.as_list()[0].as_double() == kGoldenSeed1First);
  CHECK(head.as_list()[1].as_double() == kGoldenSeed1Second);

  const Value scaled =
      call_op("random_uniform", {0}, {{"seed", 1}, {"count", 3}, {"low", 2}, {"high", 4.0}});
  for (std::size_t i = 0; i < 3; ++i) {
    CHECK(scaled.as_list()[i].as_double() == 2 + 2 * head.as_list()[i].as_double());
  }
  CHECK(call_op("random_uniform", {0}, {{"count", 0}}) == Value(Value::List{}));
  CHECK_THROWS_WITH(call_op("random_uniform", {0}, {{"count", -1}}), Contains("count"));
  CHECK_THROWS_WITH(call_op("random_uniform", {0}, {{"count", 1}, {"low", 2}, {"high", 1}}),
                    Contains("low <= high"));
}

// The op's hit count is pinned per seed and stream and estimates pi.
TEST_CASE("pi_hits: estimates pi reproducibly", "[nodes][ops]") {
  const Value hits = call_op("pi_hits", {0}, {{"seed", 7}, {"samples", 200000}});
  REQUIRE(hits.kind() == dagflow::ValueKind::kInt);
  CHECK(std::fabs(4.0 * static_cast<double>(hits.as_int()) / 200000 - M_PI) < 0.02);
  CHECK(call_op("pi_hits", {0}, {{"seed", 7}, {"samples", 200000}}) == hits);
  CHECK(call_op("pi_hits", {0}, {{"seed", 7}, {"samples", 200000}}) == Value(kGoldenHitsSeed7));
  CHECK(call_op("pi_hits", {3}, {{"seed", 7}, {"samples", 200000}}) != hits);
  CHECK(call_op("pi_hits", {0}, {{"samples", 0}}) == Value(0));
  CHECK_THROWS_WITH(call_op("pi_hits", {0}, {{"samples", -5}}), Contains("samples"));
}

// ---- CSV -------------------------------------------------------------------------------------

// The op reads a file relative to the pipeline directory as parse_csv parses text.
TEST_CASE("read_csv: follows RFC 4180 and types unquoted fields", "[nodes][ops]") {
  TempDir dir;
  write_file(dir.path() / "t.csv",
             "\xEF\xBB\xBF"
             "name,qty,price,note\r\n"
             "apple,3,1.5,\"red, sweet\"\r\n"
             "\r\n"
             "\"pear\",-2,2,\"say \"\"hi\"\"\nline 2\"\n"
             "\"7\",1e3,nan,\n");
  const OpContext ctx{.base_dir = dir.path()};
  const Value rows = call_op("read_csv", {"t.csv"}, {}, ctx);
  CHECK(rows ==
        Value(Value::List{
            Value::Map{{"name", "apple"}, {"qty", 3}, {"price", 1.5}, {"note", "red, sweet"}},
            Value::Map{{"name", "pear"}, {"qty", -2}, {"price", 2}, {"note", "say \"hi\"\nline 2"}},
            Value::Map{{"name", "7"}, {"qty", 1000.0}, {"price", "nan"}, {"note", ""}}}));

  write_file(dir.path() / "empty.csv", "");
  CHECK(call_op("read_csv", {"empty.csv"}, {}, ctx) == Value(Value::List{}));
  write_file(dir.path() / "header.csv", "a,b\n");
  CHECK(call_op("read_csv", {"header.csv"}, {}, ctx) == Value(Value::List{}));
  write_file(dir.path() / "no_newline.csv", "a,b\n1,x");
  CHECK(call_op("read_csv", {"no_newline.csv"}, {}, ctx) ==
        Value(Value::List{Value::Map{{"a", 1}, {"b", "x"}}}));
  write_file(dir.path() / "big.csv", "n\n99999999999999999999\n-0.5\n");
  CHECK(call_op("read_csv", {"big.csv"}, {}, ctx) ==
        Value(Value::List{Value::Map{{"n", 1e20}}, Value::Map{{"n", -0.5}}}));
}

// The op's parse errors name the file as the pipeline wrote it, and the line.
TEST_CASE("read_csv: names the line of a malformed record", "[nodes][ops]") {
  TempDir dir;
  const OpContext ctx{.base_dir = dir.path()};
  write_file(dir.path() / "short.csv", "a,b\n1,2\n3\n");
  CHECK_THROWS_WITH(call_op("read_csv", {"short.csv"}, {}, ctx),
                    "'short.csv' line 3: 1 fields, but the header has 2");
  // Line numbers count the newlines inside quoted fields.
  write_file(dir.path() / "long.csv", "a,b\n\"x\ny\",1\n1,2,3\n");
  CHECK_THROWS_WITH(call_op("read_csv", {"long.csv"}, {}, ctx),
                    "'long.csv' line 4: 3 fields, but the header has 2");
  write_file(dir.path() / "open.csv", "a\n\"never closed\n");
  CHECK_THROWS_WITH(call_op("read_csv", {"open.csv"}, {}, ctx),
                    "'open.csv' line 2: a quoted field is not closed");
  write_file(dir.path() / "after.csv", "a,b\n\"x\"y,1\n");
  CHECK_THROWS_WITH(call_op("read_csv", {"after.csv"}, {}, ctx),
                    Contains("line 2") && Contains("after a closing quote"));
  write_file(dir.path() / "dup.csv", "a,a\n1,2\n");
  CHECK_THROWS_WITH(call_op("read_csv", {"dup.csv"}, {}, ctx), Contains("'a' appears twice"));
}

// write_csv writes inside the pipeline directory what read_csv reads back, and refuses paths
// outside it.
TEST_CASE("write_csv: writes the sorted union of keys and reads back the same values",
          "[nodes][ops]") {
  TempDir dir;
  const OpContext ctx{.base_dir = dir.path()};
  const Value rows = Value::List{Value::Map{{"b", "x,y"}, {"a", 1}},
                                 Value::Map{{"a", 2.0}, {"c", "12"}, {"d", true}},
                                 Value::Map{{"c", "say \"hi\""}, {"d", Value()}}};
  const Value written = call_op("write_csv", {rows}, {{"path", "out/t.csv"}}, ctx);
  CHECK(written.as_path().shown == "out/t.csv");
  CHECK(read_file(dir.path() / "out" / "t.csv") ==
        "a,b,c,d\n"
        "1,\"x,y\",,\n"
        "2.0,,\"12\",true\n"
        ",,\"say \"\"hi\"\"\",\n");
  CHECK(call_op("read_csv", {written}, {}, ctx) ==
        Value(Value::List{Value::Map{{"a", 1}, {"b", "x,y"}, {"c", ""}, {"d", ""}},
                          Value::Map{{"a", 2.0}, {"b", ""}, {"c", "12"}, {"d", "true"}},
                          Value::Map{{"a", ""}, {"b", ""}, {"c", "say \"hi\""}, {"d", ""}}}));
  // A single empty column is written so that the row survives the reading.
  call_op("write_csv", {Value::List{Value::Map{{"a", ""}}, Value::Map{{"a", "x"}}}},
          {{"path", "one.csv"}}, ctx);
  CHECK(call_op("read_csv", {"one.csv"}, {}, ctx) ==
        Value(Value::List{Value::Map{{"a", ""}}, Value::Map{{"a", "x"}}}));
  CHECK_THROWS_WITH(call_op("write_csv", {Value::List{Value::Map{{"a", Value::List{}}}}},
                            {{"path", "bad.csv"}}, ctx),
                    Contains("row 0, column 'a'"));
  CHECK_THROWS_WITH(call_op("write_csv", {rows}, {{"path", "../out.csv"}}, ctx),
                    Contains("outside the pipeline directory"));
}

// The op groups and summarises as dagflow::rollup does, with its error messages.
TEST_CASE("rollup: summarises a numeric column per key", "[nodes][ops]") {
  const Value rows =
      Value::List{Value::Map{{"k", "a"}, {"v", 1}}, Value::Map{{"k", "b"}, {"v", 2.5}},
                  Value::Map{{"k", "a"}, {"v", 3}}, Value::Map{{"k", 7}, {"v", -1}}};
  CHECK(
      call_op("rollup", {rows}, {{"key", "k"}, {"value", "v"}}) ==
      Value(Value::Map{
          {"a", Value::Map{{"count", 2}, {"sum", 4}, {"mean", 2.0}, {"min", 1}, {"max", 3}}},
          {"b", Value::Map{{"count", 1}, {"sum", 2.5}, {"mean", 2.5}, {"min", 2.5}, {"max", 2.5}}},
          {"7", Value::Map{{"count", 1}, {"sum", -1}, {"mean", -1.0}, {"min", -1}, {"max", -1}}}}));
  // A double among ints makes the sum a double; min and max keep each value's kind.
  const Value mixed =
      Value::List{Value::Map{{"k", "a"}, {"v", 1}}, Value::Map{{"k", "a"}, {"v", 0.5}}};
  CHECK(call_op("rollup", {mixed}, {{"key", "k"}, {"value", "v"}}) ==
        Value(Value::Map{
            {"a",
             Value::Map{{"count", 2}, {"sum", 1.5}, {"mean", 0.75}, {"min", 0.5}, {"max", 1}}}}));
  CHECK(call_op("rollup", {Value::List{}}, {{"key", "k"}, {"value", "v"}}) == Value(Value::Map{}));
  const Value missing = Value::List{Value::Map{{"k", "a"}, {"v", 1}}, Value::Map{{"v", 2}}};
  CHECK_THROWS_WITH(call_op("rollup", {missing}, {{"key", "k"}, {"value", "v"}}),
                    "row 1 has no column 'k'");
  const Value text = Value::List{Value::Map{{"k", "a"}, {"v", "n/a"}}};
  CHECK_THROWS_WITH(call_op("rollup", {text}, {{"key", "k"}, {"value", "v"}}),
                    "row 0: the column 'v' is not a number: \"n/a\"");
  const Value big =
      Value::List{Value::Map{{"k", "a"}, {"v", kMax}}, Value::Map{{"k", "a"}, {"v", 1}}};
  CHECK_THROWS_WITH(call_op("rollup", {big}, {{"key", "k"}, {"value", "v"}}),
                    Contains("row 1") && Contains("overflow"));
}

// concat keeps the order of lists and of their elements, and refuses what is not a list.
TEST_CASE("concat: joins lists in order", "[nodes][ops]") {
  CHECK(call_op("concat", {Value::List{Value::List{1, 2}, Value::List{}, Value::List{"x"}}}) ==
        Value(Value::List{1, 2, "x"}));
  CHECK(call_op("concat", {Value::List{}}) == Value(Value::List{}));
  CHECK_THROWS_AS(call_op("concat", {Value::List{1}}), dagflow::ValueError);
}

// ---- images ----------------------------------------------------------------------------------

// make_image writes the same bytes for the same seed and index, under the name
// test_image_name gives, inside the pipeline directory only.
TEST_CASE("make_image: writes a deterministic PPM named after its index", "[nodes][ops]") {
  TempDir dir;
  const OpContext ctx{.base_dir = dir.path()};
  const Value::Map args{{"dir", "imgs"}, {"width", 8}, {"height", 6}, {"seed", 1}};
  const Value path = call_op("make_image", {7}, args, ctx);
  CHECK(path.as_path().shown == "imgs/img_0007.ppm");
  CHECK(path.as_path().resolved == fs::weakly_canonical(dir.path()) / "imgs" / "img_0007.ppm");
  const std::string bytes = read_file(dir.path() / "imgs" / "img_0007.ppm");
  CHECK(bytes.substr(0, 11) == "P6\n8 6\n255\n");
  CHECK(bytes.size() == 11 + 8 * 6 * 3);
  call_op("make_image", {7}, args, ctx);
  CHECK(read_file(dir.path() / "imgs" / "img_0007.ppm") == bytes);
  Value::Map other = args;
  other["seed"] = 2;
  call_op("make_image", {7}, other, ctx);
  CHECK(read_file(dir.path() / "imgs" / "img_0007.ppm") != bytes);
  CHECK(call_op("make_image", {12345}, args, ctx).as_path().shown == "imgs/img_12345.ppm");

  CHECK(call_op("image_stats", {path}, {}, ctx).as_map().at("width") == Value(8));
  CHECK(call_op("image_stats", {path}, {}, ctx).as_map().at("channels") == Value(3));
  CHECK_THROWS_WITH(call_op("make_image", {-1}, args, ctx), "index must be at least 0, got -1");
  Value::Map huge = args;
  huge["width"] = 20000;
  CHECK_THROWS_WITH(call_op("make_image", {0}, huge, ctx), Contains("width must be between 1 and"));
  CHECK_THROWS_WITH(call_op("make_image", {0}, {{"dir", "../elsewhere"}}, ctx),
                    Contains("outside the pipeline directory"));
}

// The op's output files hold exactly the filtered pixels, named by filtered_image_name.
TEST_CASE("image_filter: computes grey, blur and edges exactly", "[nodes][ops]") {
  TempDir dir;
  const OpContext ctx{.base_dir = dir.path()};
  // 2x2 RGB: red, green / blue, white.
  write_file(dir.path() / "rgb.ppm", "P6\n# a comment\n2 2\n255\n" +
                                         bytes({255, 0, 0, 0, 255, 0, 0, 0, 255, 255, 255, 255}));
  const Value grey =
      call_op("image_filter", {"rgb.ppm"}, {{"filter", "grey"}, {"out_dir", "out"}}, ctx);
  CHECK(grey.as_path().shown == "out/rgb_grey.pgm");
  CHECK(read_file(dir.path() / "out" / "rgb_grey.pgm") ==
        "P5\n2 2\n255\n" + bytes({76, 150, 29, 255}));

  // Clamped edges: the first pixel averages 0 0 90 three times.
  write_file(dir.path() / "row.pgm", "P5 3 1 255\n" + bytes({0, 90, 180}));
  call_op("image_filter", {"row.pgm"}, {{"filter", "blur"}, {"out_dir", "."}}, ctx);
  CHECK(read_file(dir.path() / "row_blur.pgm") == "P5\n3 1\n255\n" + bytes({30, 90, 150}));

  write_file(dir.path() / "step.pgm", "P5\n4 1\n255\n" + bytes({0, 0, 255, 255}));
  call_op("image_filter", {"step.pgm"}, {{"filter", "edges"}, {"out_dir", "."}}, ctx);
  CHECK(read_file(dir.path() / "step_edges.pgm") == "P5\n4 1\n255\n" + bytes({0, 255, 255, 0}));

  // Blur keeps colour; its output is a PPM.
  const Value blurred =
      call_op("image_filter", {"rgb.ppm"}, {{"filter", "blur"}, {"out_dir", "out"}}, ctx);
  CHECK(blurred.as_path().shown == "out/rgb_blur.ppm");
  // Red at (0,0) counts 4 times in its own clamped 3x3 window, twice in its neighbours'.
  CHECK(read_file(dir.path() / "out" / "rgb_blur.ppm") ==
        "P6\n2 2\n255\n" + bytes({142, 85, 85, 113, 170, 85, 113, 85, 170, 142, 170, 170}));
  const Value stats = call_op("image_stats", {blurred}, {}, ctx);
  CHECK(stats == Value(Value::Map{{"width", 2}, {"height", 2}, {"channels", 3}, {"mean", 127.5}}));

  CHECK_THROWS_WITH(
      call_op("image_filter", {"rgb.ppm"}, {{"filter", "sharpen"}, {"out_dir", "out"}}, ctx),
      "unknown filter 'sharpen' (expected blur, grey or edges)");
}

// Every kind of damaged image file is an error naming the file, never a crash or a huge
// allocation.
TEST_CASE("image_stats: damaged images are refused with the file's name", "[nodes][ops]") {
  TempDir dir;
  const OpContext ctx{.base_dir = dir.path()};
  const auto stats_error = [&](std::string_view name, std::string_view bytes) {
    write_file(dir.path() / name, bytes);
    return thrown_message<dagflow::Error>(
        [&] { (void)call_op("image_stats", {std::string(name)}, {}, ctx); });
  };
  CHECK_THAT(stats_error("magic.ppm", "P3\n1 1\n255\n0 0 0\n"),
             Contains("image 'magic.ppm'") && Contains("P5 or P6"));
  CHECK_THAT(stats_error("deep.ppm", "P6\n1 1\n65535\n\0\0\0\0\0\0"),
             Contains("image 'deep.ppm'") && Contains("maxval 65535"));
  CHECK_THAT(stats_error("short.ppm", "P6\n2 2\n255\nabc"),
             Contains("image 'short.ppm'") && Contains("truncated"));
  CHECK_THAT(stats_error("wide.pgm", "P5\n20000 1\n255\n"),
             Contains("image 'wide.pgm'") && Contains("20000x1"));
  CHECK_THAT(stats_error("zero.pgm", "P5\n0 1\n255\n"), Contains("image 'zero.pgm'"));
  CHECK_THAT(stats_error("cut.pgm", "P5\n4"), Contains("image 'cut.pgm'") && Contains("damaged"));
  CHECK_THAT(stats_error("huge.pgm", "P5\n99999999999999999999 1\n255\n"),
             Contains("image 'huge.pgm'") && Contains("damaged"));
  CHECK_THAT(stats_error("empty.pgm", ""), Contains("image 'empty.pgm'"));
}
