// The table ops through the `dagflow` command, as a user runs them: tests/cli/data/table holds
// sales.csv, managers.csv and three pipelines (report.yaml uses every table op, a multi-input
// write_json included; bad_row.yaml divides by zero in one row; bad_expr.yaml has a derive
// expression that does not parse). Output files are checked byte for byte.
#include <filesystem>
#include <string>

#include <catch2/catch.hpp>

#include "support/files.hpp"
#include "support/process.hpp"

namespace {

namespace fs = std::filesystem;
using dagflow::test::DataDir;
using dagflow::test::read_file;
using dagflow::test::run_dagflow;

}  // namespace

// derive -> filter -> select -> sort -> join (left) -> rollup -> to_rows -> write_csv, and
// write_json of two nodes as one object keyed by their ids.
TEST_CASE("dagflow run: a CSV report through every table op", "[cli][run][table]") {
  DataDir data;
  const auto r = run_dagflow({"run", data.file("table/report.yaml")});
  REQUIRE(r.exit_code == 0);
  const fs::path out = data.path() / "table" / "out";
  // Sorted by revenue, descending (ties keep their order); north has no manager (a left join
  // keeps it bare); units in both tables: the managers' is units_right.
  CHECK(read_file(out / "joined.csv") ==
        "manager,product,region,revenue,units,units_right\n"
        "Bob,apple,west,10,10,200\n"
        "Bea,apple,west,10,10,300\n"
        "Ann,pear,east,8,4,100\n"
        "Ann,apple,east,7.5,3,100\n"
        ",pear,north,3,1,\n"
        "Bob,plum,west,1.0,2,200\n"
        "Bea,plum,west,1.0,2,300\n");
  CHECK(read_file(out / "summary.csv") ==
        "count,max,mean,min,region,sum\n"
        "2,8,7.75,7.5,east,15.5\n"
        "1,3,3.0,3,north,3\n"
        "4,10,5.5,1.0,west,22.0\n");
  CHECK(read_file(out / "report.json") ==
        "{\n"
        "  \"managers\": [\n"
        "    {\n"
        "      \"manager\": \"Ann\",\n"
        "      \"region\": \"east\",\n"
        "      \"units\": 100\n"
        "    },\n"
        "    {\n"
        "      \"manager\": \"Bob\",\n"
        "      \"region\": \"west\",\n"
        "      \"units\": 200\n"
        "    },\n"
        "    {\n"
        "      \"manager\": \"Bea\",\n"
        "      \"region\": \"west\",\n"
        "      \"units\": 300\n"
        "    }\n"
        "  ],\n"
        "  \"north\": [\n"
        "    {\n"
        "      \"count\": 1,\n"
        "      \"max\": 3,\n"
        "      \"mean\": 3.0,\n"
        "      \"min\": 3,\n"
        "      \"region\": \"north\",\n"
        "      \"sum\": 3\n"
        "    }\n"
        "  ]\n"
        "}\n");
}

// A row that cannot be computed fails the run (exit 1), naming the node and the row.
TEST_CASE("dagflow run: a table op's row error exits 1 naming the node and the row",
          "[cli][errors][table]") {
  DataDir data;
  const std::string pipeline = data.file("table/bad_row.yaml");
  const auto r = run_dagflow({"run", pipeline, "--json"});
  CHECK(r.exit_code == 1);
  CHECK(r.out.empty());
  CHECK_THAT(r.err, Catch::StartsWith("dagflow: error: " + pipeline + ":") &&
                        Catch::Contains("node 'per_unit' (op derive) failed: row 5: division by "
                                        "zero: 4 / 0"));
}

// A derive expression is parsed when the pipeline loads: exit 2 at its column, nothing run.
TEST_CASE("dagflow: a derive syntax error exits 2 at its column in the expression",
          "[cli][errors][table]") {
  DataDir data;
  for (const char* command : {"run", "validate"}) {
    INFO(command);
    const auto r = run_dagflow({command, "table/bad_expr.yaml"}, data.path());
    CHECK(r.exit_code == 2);
    CHECK(r.out.empty());
    CHECK(r.err ==
          "table/bad_expr.yaml:10:44: node 'priced' (op 'derive'): syntax error in the "
          "expression: expected a number, a column name or '(', got '*'\n");
  }
  CHECK_FALSE(fs::exists(data.path() / "table" / ".dagflow"));
}

// `dagflow ops` lists each table op with the types its function declares.
TEST_CASE("dagflow ops: lists the table ops with their types", "[cli][ops][table]") {
  const auto all = run_dagflow({"ops"});
  REQUIRE(all.exit_code == 0);
  for (const char* name : {"select\n", "filter\n", "derive\n", "sort\n", "join\n", "to_rows\n"}) {
    CHECK_THAT(all.out, Catch::Contains(std::string("\n") + name));
  }
  const auto join = run_dagflow({"ops", "join"});
  REQUIRE(join.exit_code == 0);
  CHECK_THAT(join.out, Catch::Contains("  inputs: list of map, list of map\n"
                                       "  args:   on: list of string (required)\n"
                                       "          how: string = \"inner\"\n"
                                       "  result: list of map\n"));
  const auto derive = run_dagflow({"ops", "derive"});
  CHECK_THAT(derive.out, Catch::Contains("  inputs: list of map\n"
                                         "  args:   column: string (required)\n"
                                         "          expr: string (required)\n"
                                         "  result: list of map\n"));
  const auto to_rows = run_dagflow({"ops", "to_rows"});
  CHECK_THAT(to_rows.out, Catch::Contains("  inputs: map\n  args:   key: string (required)\n"
                                          "  result: list of map\n"));
  const auto sort = run_dagflow({"ops", "sort"});
  CHECK_THAT(sort.out, Catch::Contains("          descending: bool = false\n"));
  const auto write_json = run_dagflow({"ops", "write_json"});
  CHECK_THAT(write_json.out,
             Catch::Contains("  inputs: any (or several, as one map input node id -> value)\n"));
}
