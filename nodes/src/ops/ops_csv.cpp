// CSV ops: read_csv, write_csv, rollup (all three calling <dagflow/nodes/csv.hpp>), concat.
#include <cstddef>
#include <string>
#include <vector>

#include <dagflow/nodes/csv.hpp>

#include "builtin_ops.hpp"

namespace dagflow {

namespace {

Value::List concat(const std::vector<Value::List>& lists) {
  std::size_t total = 0;
  for (const Value::List& list : lists) total += list.size();
  Value::List all;
  all.reserve(total);
  for (const Value::List& list : lists) all.insert(all.end(), list.begin(), list.end());
  return all;
}

}  // namespace

void add_csv_ops(OpRegistry& ops) {
  ops.add(
         "read_csv",
         [](const OpContext& ctx, const detail::FileArg& file) {
           return parse_csv(detail::read_file(ctx, file), file.shown);
         },
         "Reads a CSV file (RFC 4180; the first row names the columns) and returns its rows as "
         "maps column -> value; unquoted fields that are whole ints or finite numbers become "
         "ints or doubles, everything else strings.")
      .set_io();

  ops.add("write_csv",
          [](const OpContext& ctx, const std::vector<Value::Map>& rows,
             const detail::FileArg& path) {
            return detail::write_file_atomically(ctx, path, format_csv(rows));
          },
          "Writes a list of maps as CSV to `path` (inside the pipeline's directory): the columns "
          "are the sorted union of the keys, a missing key an empty field. Returns the file's "
          "path.",
          {output_path_arg("path")})
      .set_writes_files()
      .set_io();

  ops.add("rollup",
          [](const std::vector<Value::Map>& rows, const std::string& key,
             const std::string& value) { return rollup(rows, key, value); },
          "Groups rows (a list of maps) by the column `key` and summarises the numeric column "
          "`value` per group: a map group -> {count, sum, mean, min, max}.",
          {arg("key"), arg("value")});

  ops.add("concat", &concat,
          "Joins a list of lists into one list, in order (for example the rows of many CSV "
          "files).");
}

}  // namespace dagflow
