// An int parameter given a std::string literal.
#include <string>

#include <dagflow/dagflow.hpp>

int square(int x) { return x * x; }

int main() {
  dagflow::Graph g;
  auto d = g.delayed(square, std::string("three"));
  (void)d;
}
