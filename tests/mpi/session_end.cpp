// What is left of a Cluster once its Session has ended: a port kept past the Session may still
// be destroyed, but sending and attaching throw dagflow::Error. Exits non-zero on a failed
// check (each printed). Run under mpirun and alone.
#include <cstdio>
#include <memory>
#include <string>

#include <dagflow/engine/cluster.hpp>
#include <dagflow/graph/errors.hpp>
#include <dagflow/mpi.hpp>

namespace {
class Ignore final : public dagflow::ClusterReceiver {
 public:
  void receive(std::size_t /*from*/, std::string /*bytes*/) override {}
  void fail(std::string /*what*/) noexcept override {}
};

// True if `action` throws dagflow::Error mentioning the session's end.
template <class Action>
bool throws_ended(const char* what, Action action) {
  try {
    action();
  } catch (const dagflow::Error& e) {
    if (std::string(e.what()).find("session has ended") != std::string::npos) return true;
    std::printf("%s: unexpected message: %s\n", what, e.what());
    return false;
  }
  std::printf("%s: did not throw\n", what);
  return false;
}
}  // namespace

int main(int argc, char** argv) {
  Ignore ignore;
  std::shared_ptr<dagflow::Cluster> cluster;
  std::unique_ptr<dagflow::ClusterPort> port;
  std::size_t size = 1;
  {
    dagflow::mpi::Session mpi(argc, argv);
    cluster = mpi.cluster();
    port = cluster->attach(ignore);
    size = mpi.size();
    // A message to the next rank, still on its way when the Session ends: flushed, not lost.
    if (size > 1) port->send((mpi.rank() + 1) % size, std::string(100'000, 'x'));
  }
  bool ok = throws_ended("attach", [&] { static_cast<void>(cluster->attach(ignore)); });
  if (size > 1)
    ok = throws_ended("send", [&] { port->send(0 == cluster->rank() ? 1 : 0, "x"); }) && ok;
  port.reset();
  std::printf("%s\n", ok ? "ok" : "FAILED");
  return ok ? 0 : 1;
}
